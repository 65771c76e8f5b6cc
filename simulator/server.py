"""The simulator's HTTP server: records, versions, idempotency keys and injected faults (docs/national-api.md).

One SQLite connection guarded by one lock: every request that reads or writes the records runs as one
transaction under it, so concurrent identical requests see each other's writes (one stores, the rest replay).
Injected latency and hangs happen outside the lock.
"""

import hashlib
import hmac
import json
import math
import random
import re
import sqlite3
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from . import standard

DATA_SOURCE_BACKFILL = 3  # 历史业绩补录: the only data source the portal sends
DATA_LEVELS = ("A", "B", "C", "D")
MAX_BODY = 10 * 1024 * 1024
DEFAULT_HANG_SECONDS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    national_id TEXT PRIMARY KEY,
    project_number TEXT NOT NULL UNIQUE,
    data_source INTEGER NOT NULL,
    data_level TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    national_id TEXT NOT NULL REFERENCES projects (national_id),
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (national_id, version)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS create_calls (
    project_number TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (project_number, outcome)
);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, path: str):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    @contextmanager
    def transaction(self):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except Reply:
                self.db.execute("COMMIT")  # an answer, not a failure: keep what led to it (call counts)
                raise
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def clear(self):
        with self.transaction() as db:
            for table in ("versions", "projects", "idempotency", "create_calls"):
                db.execute(f"DELETE FROM {table}")


class Faults:
    """What the simulator is told to do wrong. Each /api/ call rolls once: error, timeout (hang) or none."""

    FIELDS = {
        "latency_ms": int,
        "error_rate": float,
        "timeout_rate": float,
        "seed": int,
        "hang_seconds": float,
    }

    def __init__(self, latency_ms=0, error_rate=0.0, timeout_rate=0.0, seed=None, hang_seconds=None):
        self.lock = threading.Lock()
        self.hang_seconds = DEFAULT_HANG_SECONDS if hang_seconds is None else hang_seconds
        self.reset()
        self.update(dict(latency_ms=latency_ms, error_rate=error_rate, timeout_rate=timeout_rate, seed=seed))

    def reset(self):
        """Back to no faults at all (hang_seconds back to its start value)."""
        with self.lock:
            self.settings = {
                "latency_ms": 0,
                "error_rate": 0.0,
                "timeout_rate": 0.0,
                "seed": None,
                "hang_seconds": self.hang_seconds,
            }
            self.random = random.Random()
            self.injected = {"error": 0, "timeout": 0}
            self.in_flight = getattr(self, "in_flight", 0)  # calls being answered right now survive a reset

    def problems(self, changes) -> list[dict]:
        if not isinstance(changes, dict):
            return [{"field": "", "message": "must be a JSON object"}]
        found = []
        for name, value in changes.items():
            kind = self.FIELDS.get(name)
            if kind is None:
                found.append({"field": name, "message": "unknown fault setting"})
            elif value is None and name == "seed":
                continue
            elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                found.append({"field": name, "message": "must be a finite number"})
            elif value != kind(value):
                found.append({"field": name, "message": "must be a whole number"})
            elif value < 0 or (name.endswith("_rate") and value > 1):
                found.append({"field": name, "message": "out of range (rates 0..1, others ≥ 0)"})
        return found

    def update(self, changes: dict) -> dict:
        with self.lock:
            for name, value in changes.items():
                self.settings[name] = None if value is None else self.FIELDS[name](value)
            if "seed" in changes:
                self.random = random.Random(self.settings["seed"])
            return dict(self.settings)

    def snapshot(self) -> dict:
        with self.lock:
            return {**self.settings, "injected": dict(self.injected), "in_flight": self.in_flight}

    def begin(self):
        """An /api/ call has been read in full and is being worked on (latency, hang included)."""
        with self.lock:
            self.in_flight += 1

    def end(self):
        with self.lock:
            self.in_flight -= 1

    def roll(self) -> tuple[float, str | None, float]:
        """(latency in s, "error" | "timeout" | None, hang in s) for one call."""
        with self.lock:
            s = self.settings
            draw = self.random.random()
            fault = None
            if draw < s["error_rate"]:
                fault = "error"
            elif draw < s["error_rate"] + s["timeout_rate"]:
                fault = "timeout"
            if fault:
                self.injected[fault] += 1
            return s["latency_ms"] / 1000, fault, s["hang_seconds"]


class Reply(Exception):
    """A finished answer, raised from anywhere in a handler."""

    def __init__(self, status: int, body, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, code: str, detail: str = "", **extra) -> Reply:
    return Reply(status, {"error": code, **({"detail": detail} if detail else {}), **extra})


def invalid(problems: list[dict]) -> Reply:
    return Reply(422, {"error": "validation_failed", "problems": problems})


def fingerprint(method: str, path: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class Platform:
    """The record-keeping: every method runs inside one transaction and returns (status, body, headers)."""

    def __init__(self, store: Store):
        self.store = store

    # -- idempotency

    def replay(self, db, key: str, digest: str):
        row = db.execute("SELECT fingerprint, body FROM idempotency WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != digest:
            raise error(
                422, "idempotency_key_reused", "this Idempotency-Key was used for a different request"
            )
        return 200, json.loads(row["body"]), {"Idempotent-Replayed": "true"}

    def remember(self, db, key: str, digest: str, status: int, body: dict):
        db.execute(
            "INSERT INTO idempotency (key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (key, digest, status, json.dumps(body, ensure_ascii=False), now()),
        )
        return status, body, {}

    def count_create(self, db, project_number, outcome: str):
        if isinstance(project_number, str) and project_number:
            db.execute(
                "INSERT INTO create_calls (project_number, outcome, count) VALUES (?, ?, 1) "
                "ON CONFLICT (project_number, outcome) DO UPDATE SET count = count + 1",
                (project_number, outcome),
            )

    # -- the API

    def create(self, key: str, body: dict):
        digest = fingerprint("POST", "/api/v1/projects", body)
        number = body.get("project_number")
        with self.store.transaction() as db:
            replayed = self.replay(db, key, digest)
            if replayed:
                self.count_create(db, number, "replayed")
                return replayed
            problems = common_problems(body, creating=True)
            if not isinstance(number, str) or not number.strip() or "/" in number:
                problems.insert(0, {"field": "project_number", "message": "required: a string without '/'"})
            if body.get("data_level") not in DATA_LEVELS:
                problems.append({"field": "data_level", "message": "required: one of A, B, C, D"})
            if body.get("version", 1) != 1:
                problems.append({"field": "version", "message": "a new project starts at version 1"})
            if not problems:
                problems = standard.problems(number, body["payload"])
            if problems:
                self.count_create(db, number, "rejected")
                raise invalid(problems)
            existing = db.execute("SELECT * FROM projects WHERE project_number = ?", (number,)).fetchone()
            if existing:
                self.count_create(db, number, "duplicate")
                raise error(409, "duplicate_project", national_id=existing["national_id"])
            national_id, received_at = f"NP-{number}", now()
            db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, 1, ?)",
                (national_id, number, body["data_source"], body["data_level"], received_at),
            )
            self.add_version(db, national_id, 1, body["payload"], key, received_at)
            self.count_create(db, number, "stored")
            answer = {"national_id": national_id, "version": 1, "received_at": received_at}
            return self.remember(db, key, digest, 201, answer)

    def update(self, key: str, national_id: str, body: dict):
        digest = fingerprint("PUT", f"/api/v1/projects/{national_id}", body)
        with self.store.transaction() as db:
            replayed = self.replay(db, key, digest)
            if replayed:
                return replayed
            problems = common_problems(body, creating=False)
            version = body.get("version")
            if isinstance(version, bool) or not isinstance(version, int):
                problems.append({"field": "version", "message": "required: an integer"})
            if "data_level" in body and body["data_level"] not in DATA_LEVELS:
                problems.append({"field": "data_level", "message": "one of A, B, C, D"})
            if problems:
                raise invalid(problems)
            project = self.project_row(db, national_id)
            number = project["project_number"]
            if body.get("project_number", number) != number:
                raise invalid([{"field": "project_number", "message": f"this record is {number}"}])
            if refused := standard.problems(number, body["payload"]):
                raise invalid(refused)
            current = project["current_version"]
            if version != current + 1:
                raise error(409, "version_conflict", national_id=national_id, current_version=current)
            received_at = now()
            level = body.get("data_level", project["data_level"])
            db.execute(
                "UPDATE projects SET current_version = ?, data_level = ? WHERE national_id = ?",
                (version, level, national_id),
            )
            self.add_version(db, national_id, version, body["payload"], key, received_at)
            answer = {"national_id": national_id, "version": version, "received_at": received_at}
            return self.remember(db, key, digest, 200, answer)

    def add_version(self, db, national_id, version, payload, key, received_at):
        db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?)",
            (national_id, version, json.dumps(payload, ensure_ascii=False), key, received_at),
        )

    def project_row(self, db, national_id):
        row = db.execute("SELECT * FROM projects WHERE national_id = ?", (national_id,)).fetchone()
        if row is None:
            raise error(404, "not_found", f"no project {national_id}")
        return row

    def describe(self, db, project, with_payloads=False) -> dict:
        versions = db.execute(
            "SELECT * FROM versions WHERE national_id = ? ORDER BY version", (project["national_id"],)
        ).fetchall()
        current = next(v for v in versions if v["version"] == project["current_version"])
        listed = []
        for v in versions:
            item = {key: v[key] for key in ("version", "received_at", "idempotency_key")}
            if with_payloads:
                item["payload"] = json.loads(v["payload"])
            listed.append(item)
        described = {key: project[key] for key in project.keys()}
        if not with_payloads:
            described["payload"] = json.loads(current["payload"])
        described["versions"] = listed
        return described

    def get(self, national_id: str):
        with self.store.transaction() as db:
            return 200, self.describe(db, self.project_row(db, national_id)), {}

    def get_version(self, national_id: str, version: int):
        with self.store.transaction() as db:
            self.project_row(db, national_id)
            row = db.execute(
                "SELECT * FROM versions WHERE national_id = ? AND version = ?", (national_id, version)
            ).fetchone()
            if row is None:
                raise error(404, "not_found", f"{national_id} has no version {version}")
            answer = {"national_id": national_id, "version": version, "received_at": row["received_at"]}
            return 200, {**answer, "payload": json.loads(row["payload"])}, {}

    def tamper(self, change) -> dict:
        """A control call for tests of the read-back: drop a record, or alter one field of its current version
        behind the portal's back."""
        if not isinstance(change, dict) or change.get("action") not in ("drop", "alter"):
            raise invalid([{"field": "action", "message": "drop or alter"}])
        with self.store.transaction() as db:
            project = self.project_row(db, str(change.get("national_id")))
            national_id = project["national_id"]
            if change["action"] == "drop":
                db.execute("DELETE FROM versions WHERE national_id = ?", (national_id,))
                db.execute("DELETE FROM projects WHERE national_id = ?", (national_id,))
                return {"dropped": national_id}
            row = db.execute(
                "SELECT payload FROM versions WHERE national_id = ? AND version = ?",
                (national_id, project["current_version"]),
            ).fetchone()
            payload = json.loads(row["payload"])
            rows = payload.get(change.get("table"))
            if not isinstance(rows, list) or not rows:
                raise invalid([{"field": "table", "message": "no such table in this record"}])
            rows[0][str(change.get("field"))] = change.get("value")
            db.execute(
                "UPDATE versions SET payload = ? WHERE national_id = ? AND version = ?",
                (json.dumps(payload, ensure_ascii=False), national_id, project["current_version"]),
            )
            return {"altered": national_id, "table": change["table"], "field": change.get("field")}

    def all_records(self) -> dict:
        with self.store.transaction() as db:
            projects = db.execute("SELECT * FROM projects ORDER BY created_at, national_id").fetchall()
            records = [self.describe(db, p, with_payloads=True) for p in projects]
            calls: dict[str, dict] = {}
            for row in db.execute("SELECT * FROM create_calls ORDER BY project_number"):
                counts = calls.setdefault(
                    row["project_number"],
                    {"total": 0, "stored": 0, "replayed": 0, "duplicate": 0, "rejected": 0},
                )
                counts[row["outcome"]] = row["count"]
                counts["total"] += row["count"]
        return {"records": records, "create_calls": calls}


def common_problems(body: dict, *, creating: bool) -> list[dict]:
    """payload always; data_source required on a create, checked on an update when sent."""
    problems = []
    if not isinstance(body.get("payload"), dict):
        problems.append({"field": "payload", "message": "required: a JSON object"})
    source = body.get("data_source")
    if (creating or "data_source" in body) and (source != DATA_SOURCE_BACKFILL or isinstance(source, bool)):
        problems.append({"field": "data_source", "message": "must be 3 (历史业绩补录, backfill)"})
    return problems


PROJECT = re.compile(r"^/api/v1/projects/([^/]+)$")
VERSION = re.compile(r"^/api/v1/projects/([^/]+)/versions/(\d+)$")


class Handler(BaseHTTPRequestHandler):
    server_version = "NationalPlatformSimulator/1.0"
    server: "SimulatorServer"

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")

    def do_PUT(self):
        self.handle_one("PUT")

    def do_DELETE(self):
        self.handle_one("DELETE")

    def handle_one(self, method: str):
        started = time.monotonic()
        self.notes: list[str] = []
        hang = 0.0
        counted = False
        try:
            path = urlsplit(self.path).path
            raw = self.read_body()
            if path == "/_control/health" and method == "GET":
                raise Reply(200, "ok")
            if not (path.startswith("/api/") or path.startswith("/_control/")):
                raise error(404, "not_found")
            self.check_api_key()
            if path.startswith("/_control/"):
                raise Reply(*self.control(method, path, raw))
            self.server.faults.begin()
            counted = True
            latency, fault, hang_seconds = self.server.faults.roll()
            if latency:
                time.sleep(latency)
            if fault == "error":
                self.notes.append("fault=error")
                raise error(503, "service_unavailable", "injected fault: busy, try again later")
            if fault == "timeout":
                self.notes.append("fault=timeout")
                hang = hang_seconds
            status, body, headers = self.api(method, path, raw)
            raise Reply(status, body, headers)
        except Reply as reply:
            answer = reply
        except Exception:
            traceback.print_exc()
            answer = error(500, "internal_error")
        if hang:
            time.sleep(hang)  # the call did its work (stored) but the client gives up before it hears so
        if answer.headers.get("Idempotent-Replayed"):
            self.notes.append("replayed")
        try:
            self.send(answer)
        except OSError:
            self.notes.append("client gone")
        finally:
            if counted:
                self.server.faults.end()
        key = self.headers.get("Idempotency-Key")
        sys.stderr.write(
            f"{now()} {self.client_address[0]} {method} {self.path} {answer.status} "
            f"{(time.monotonic() - started) * 1000:.0f}ms"
            + (f" key={key}" if key else "")
            + "".join(f" {n}" for n in self.notes)
            + "\n"
        )
        sys.stderr.flush()

    def log_request(self, code="-", size="-"):
        pass  # handle_one logs one line per request, with more in it

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise error(413, "too_large", f"at most {MAX_BODY} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def json_body(self, raw: bytes) -> dict:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise error(400, "invalid_json", "the body must be a JSON object (UTF-8)") from None
        if not isinstance(body, dict):
            raise error(400, "invalid_json", "the body must be a JSON object")
        return body

    def check_api_key(self):
        given = self.headers.get("X-Api-Key", "")
        if not hmac.compare_digest(given.encode(), self.server.api_key.encode()):
            raise error(401, "unauthorized", "missing or wrong X-Api-Key")

    def idempotency_key(self) -> str:
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 255:
            raise error(400, "idempotency_key_required", "send an Idempotency-Key header (1-255 characters)")
        return key

    def api(self, method: str, path: str, raw: bytes):
        platform = self.server.platform
        if path == "/api/v1/projects":
            if method != "POST":
                raise error(405, "method_not_allowed")
            key = self.idempotency_key()
            return platform.create(key, self.json_body(raw))
        if match := PROJECT.match(path):
            national_id = unquote(match[1])
            if method == "GET":
                return platform.get(national_id)
            if method == "PUT":
                key = self.idempotency_key()
                return platform.update(key, national_id, self.json_body(raw))
            raise error(405, "method_not_allowed")
        if match := VERSION.match(path):
            if method != "GET":
                raise error(405, "method_not_allowed")
            return platform.get_version(unquote(match[1]), int(match[2]))
        raise error(404, "not_found")

    def control(self, method: str, path: str, raw: bytes):
        faults = self.server.faults
        if path == "/_control/faults" and method == "GET":
            return 200, faults.snapshot()
        if path == "/_control/faults" and method == "POST":
            changes = self.json_body(raw) if raw.strip() else {}
            if problems := faults.problems(changes):
                raise invalid(problems)
            faults.update(changes)
            return 200, faults.snapshot()
        if path == "/_control/reset" and method == "POST":
            self.server.store.clear()
            faults.reset()
            return 200, {"reset": True, "faults": faults.snapshot()}
        if path == "/_control/tamper" and method == "POST":
            return 200, self.server.platform.tamper(self.json_body(raw))
        if path == "/_control/records" and method == "GET":
            return 200, {**self.server.platform.all_records(), "faults": faults.snapshot()}
        raise error(404, "not_found")

    def send(self, answer: Reply):
        if isinstance(answer.body, str):
            data, kind = answer.body.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(answer.body, ensure_ascii=False).encode(), "application/json"
        self.send_response(answer.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging (timeout-fault) thread never holds up shutdown
    request_queue_size = 128

    def __init__(self, address, *, db_path: str, api_key: str, faults: Faults):
        self.api_key = api_key
        self.store = Store(db_path)
        self.platform = Platform(self.store)
        self.faults = faults
        super().__init__(address, Handler)


def make_server(host: str, port: int, *, db_path: str, api_key: str, faults: Faults | None = None):
    return SimulatorServer((host, port), db_path=db_path, api_key=api_key, faults=faults or Faults())
