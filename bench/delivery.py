"""Delivery to the national platform: N records drained through the real Celery worker to the simulator, against
the simulator's own limit on the same endpoint measured alone (a script, not a test; see bench/README.md).

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/delivery.py [--records 1000] [--concurrency 4]

1. Database: DATABASE_URL or --database-url, default the PostgreSQL database `bench_delivery` on 127.0.0.1, dropped
   and made afresh (the builders' document numbers start again in each process), migrated. With --keep-database it
   is used as it is, its rows kept (a copy of a database seeded by bench/seed_records.py, to measure the delivery
   with a million records already there); the records made are numbered after the builders' records it holds.
2. Records: N records of one enterprise in 渝中区 (tests/chaos.py's make_records: six stages, submitted, approved
   by the district's reviewer through review.services, so each has its snapshot and running notice); the notices
   are then ended (their end moved to a second ago) and closed by publicity.services.close_expired_notices, as beat's
   sweep closes them: each record moves to `entering` and gets its outbox message with the national payload.
3. The simulator's limit, alone: the simulator (python -m simulator, no faults) is driven by Debian's wrk POSTing
   the same N payloads to POST /api/v1/projects, each request under a project number of its own (the record's
   number replaced, in every table and stage record number, by a fresh 16-digit one; a fresh Idempotency-Key), so
   every call is a new record checked and stored as the portal's are, never a replay; --limit-connections
   connections (default: the worker's concurrency, as many calls in flight as the worker can have), for
   --limit-seconds. Only 201 answers count. The simulator's store is then cleared.
4. The drain: a Celery worker (--concurrency processes) and beat (the sweep every --sweep-seconds, production's 60 by
   default) on REDIS_URL, production's timings otherwise. Once the worker is ready, the N messages are handed to it
   as the close hands them after its commit (publicity.services.enqueue_deliveries; the close's own hand-over was
   emptied from the queue before the worker started, so the clock starts with the work). Done when every message is
   delivered: the time is the last delivered_at minus the hand-over.
5. Prints: records, seconds, records/s, the simulator's limit (req/s), the ratio (goal >= 0.8), and checks that every
   record is in the library here and stored exactly once at the simulator.
6. Prints where the CPU went (user + system time from /proc/<pid>/stat, core-milliseconds): the simulator's (and
   wrk's) per call when driven alone; per record during the drain, each process of the worker's tree, beat, the
   simulator and the PostgreSQL backends of this database (sampled from pg_stat_activity every 0.25 s while the drain runs,
   by backend type, a backend started meanwhile counted from its start, one that came and went between two samples
   missed; the bench's own connection left out); Redis is shared with other work and not counted. From these, the ratio's
   ceiling on this machine: both runs bound by the same cores, the drain can reach at most (CPU of a call alone) /
   (CPU of a record drained) of the simulator's limit, however the work is scheduled.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_delivery"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

# Each request the next body of the file (one JSON a line), its project number (args[2] .. the line's number, in
# the file's second column) replaced everywhere in the body by a number of this request's own: "500103" + "9" + the
# thread (2 digits) + a counter (7 digits) = 16 digits, never a real one (whose 7th digit is a year's first).
LUA = (
    loadgen.THREADS_LUA
    + r"""
function init(args)
  bodies = {}
  numbers = {}
  for line in io.lines(args[1]) do
    local number, body = line:match("^(%d+)\t(.*)$")
    if number then
      numbers[#numbers + 1] = number
      bodies[#bodies + 1] = body
    end
  end
  key = args[2]
  index = ((id or 1) * 7919) % #bodies
  serial = 0
  created, other = 0, 0
  sample = ""
end
function request()
  index = index % #bodies + 1
  serial = serial + 1
  local number = string.format("5001039%02d%07d", id, serial)
  local body = bodies[index]:gsub(numbers[index], number)
  return wrk.format("POST", "/api/v1/projects", {
    ["Content-Type"] = "application/json",
    ["X-Api-Key"] = key,
    ["Idempotency-Key"] = number .. "-v1",
  }, body)
end
function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if #sample < 300 then sample = sample .. status .. " " .. body:sub(1, 200) .. "; " end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "created": %d, "other": %d, ' ..
    '"socket": %d, "sample": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), total("created"),
    total("other"), e.connect + e.read + e.write + e.timeout, joined("sample")))
end
"""
)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float | None:
    """The process's user + system CPU time so far, in milliseconds; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid (from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int, tree) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def simulator_pid() -> int:
    """The simulator this process started (tests/simulator_process.running_simulator)."""
    for pid in children().get(os.getpid(), []):
        try:
            if b"simulator" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return pid
        except OSError:
            continue
    raise SystemExit("the simulator's process was not found")


class CpuMeter:
    """CPU time of groups of processes over an interval: each process's time at its first sighting is the base,
    its last reading the end (a process that ends meanwhile keeps its last reading). Sampled by the caller."""

    def __init__(self):
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group: dict[int, str] = {}

    def sample(self, groups: dict[str, list[int]], new: dict[str, list[int]] = {}):  # noqa: B006 - only read
        """groups: processes counted from their first sighting; new: processes started within the interval,
        counted from their start (all their time is the interval's)."""
        for started, named in ((False, groups), (True, new)):
            for name, pids in named.items():
                for pid in pids:
                    value = cpu_ms(pid)
                    if value is None:
                        continue
                    self.group.setdefault(pid, name)
                    self.first.setdefault(pid, 0.0 if started else value)
                    self.last[pid] = value

    def totals(self) -> dict[str, tuple[float, int]]:
        """Group: (CPU milliseconds, processes seen)."""
        result: dict[str, tuple[float, int]] = {}
        for pid, name in self.group.items():
            milliseconds, count = result.get(name, (0.0, 0))
            result[name] = (milliseconds + self.last[pid] - self.first[pid], count + 1)
        return result


def database_backends(since) -> dict[str, tuple[list[int], list[int]]]:
    """The PostgreSQL processes on this database other than this process's own connection, by backend type (client
    backend, autovacuum worker…): (those that were there before `since`, those started after it)."""
    from django.db import connection

    found: dict[str, tuple[list[int], list[int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_type, backend_start >= %s FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            [since],
        )
        for pid, kind, new in cursor.fetchall():
            found.setdefault(f"PostgreSQL: {kind}", ([], []))[1 if new else 0].append(pid)
    return found


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="the Celery worker's processes")
    parser.add_argument("--sweep-seconds", type=float, default=60, help="PUBLICITY_SWEEP_SECONDS (beat)")
    parser.add_argument("--limit-seconds", type=float, default=10, help="the simulator alone: wrk's duration")
    parser.add_argument(
        "--limit-connections", type=int, default=None, help="wrk's connections (default: --concurrency)"
    )
    parser.add_argument("--drain-timeout", type=float, default=1800, help="give up the drain after this")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument(
        "--keep-database", action="store_true", help="use the database with its rows (a copy of a seeded one)"
    )
    options = parser.parse_args()
    if not (1 <= options.records <= 100_000 and 1 <= options.concurrency <= 64):
        parser.error("--records 1..100000, --concurrency 1..64")
    return options


def setup(options, tmp_path: Path) -> dict:
    from seed_records import LOOPBACK_ENV, continue_builders_sequence, ensure_database

    ensure_database(options.database_url, fresh=not options.keep_database)
    env = {
        **os.environ,
        **LOOPBACK_ENV,
        "DJANGO_SETTINGS_MODULE": "backfill_portal.settings",
        "DATABASE_URL": options.database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_DEBUG": "0",
        "PUBLICITY_SWEEP_SECONDS": str(options.sweep_seconds),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    continue_builders_sequence()
    return env


def prepare(records: int) -> list[int]:
    """Records approved and in notice, their notices ended and closed as the sweep closes them: the ids of the
    outbox messages written."""
    from projects.models import Project
    from publicity import services
    from publicity.models import OutboxMessage
    from tests.builders import end_notices
    from tests.chaos import make_records
    from tests.processes import purge_broker

    started = time.monotonic()
    projects = make_records(records, "报送")
    print(f"{records} records made and approved in {time.monotonic() - started:.1f}s", flush=True)
    started = time.monotonic()
    end_notices(*projects)
    while services.close_expired_notices():
        pass
    purge_broker()  # the close handed its messages to the broker: the drain hands them over again at its start
    ids = list(OutboxMessage.objects.filter(project__in=projects).order_by("pk").values_list("pk", flat=True))
    entering = Project.objects.filter(pk__in=[p.pk for p in projects], status="entering").count()
    print(
        f"notices closed in {time.monotonic() - started:.1f}s: {len(ids)} outbox messages, {entering} entering"
    )
    if len(ids) != records or entering != records:
        raise SystemExit("not every record reached the outbox")
    return ids


def bodies_file(ids, path: Path):
    """What the worker will send, one call a line: the project number, then the body as publicity.national sends
    it."""
    from publicity.models import OutboxMessage
    from publicity.national import DATA_SOURCE_BACKFILL

    with open(path, "w", encoding="utf-8") as out:
        for message in OutboxMessage.objects.filter(pk__in=ids).select_related("project"):
            body = {
                "project_number": message.project.project_number,
                "version": message.national_version,
                "data_source": DATA_SOURCE_BACKFILL,
                "data_level": message.payload["TBProjectInfo"][0]["DataLevel"],
                "payload": message.payload,
            }
            out.write(f"{message.project.project_number}\t{json.dumps(body)}\n")  # as requests encodes it


def simulator_limit(base_url: str, api_key: str, bodies: Path, connections: int, seconds: float, workdir):
    script = workdir / "create.lua"
    script.write_text(LUA)
    threads = min(connections, 2)
    simulator = simulator_pid()
    simulator_before = cpu_ms(simulator)
    reaped = os.times()
    output = subprocess.run(
        [
            WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
            "-s", str(script), base_url + "/api/v1/projects", "--", str(bodies), api_key,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    simulator_ms = cpu_ms(simulator) - simulator_before
    finished = os.times()  # wrk's CPU: the only child reaped meanwhile
    wrk_ms = (
        finished.children_user + finished.children_system - reaped.children_user - reaped.children_system
    ) * 1000
    line = next((x for x in output.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["rate"] = figures["created"] / (figures["duration_us"] / 1e6)
    figures["simulator_ms"], figures["wrk_ms"] = simulator_ms, wrk_ms
    return figures


def drain(ids, stack, concurrency: int, timeout: float) -> tuple[float, float, CpuMeter]:
    """Hand the messages to the worker; wait until all are delivered. (seconds, hand-over seconds, the CPU the
    processes spent meanwhile)."""
    from django.db.models import Max
    from django.utils import timezone

    from publicity import services
    from publicity.models import OutboxMessage, OutboxState

    worker = stack.worker(concurrency=concurrency)
    beat = stack.beat()
    simulator = simulator_pid()
    meter = CpuMeter()

    since = timezone.now()

    def sample():
        tree = children()
        worker_tree = descendants(worker.pid, tree)
        backends = database_backends(since)
        meter.sample(
            {
                "worker: main process": worker_tree[:1],
                "worker: pool processes": worker_tree[1:],
                "beat": descendants(beat.pid, tree),
                "simulator": [simulator],
                **{kind: old for kind, (old, _) in backends.items()},
            },
            {kind: new for kind, (_, new) in backends.items()},
        )

    sample()
    started = time.time()
    services.enqueue_deliveries(ids)
    handed_over = time.time() - started
    deadline = time.monotonic() + timeout
    messages = OutboxMessage.objects.filter(pk__in=ids)
    last_report = time.monotonic()
    while messages.filter(state=OutboxState.DELIVERED).count() < len(ids):
        if messages.filter(state__in=[OutboxState.FAILED, OutboxState.REFUSED]).exists():
            raise SystemExit("a delivery failed or was refused: see the worker's log")
        if time.monotonic() > deadline:
            raise SystemExit(f"not drained after {timeout:g}s")
        if time.monotonic() - last_report > 10:
            done = messages.filter(state=OutboxState.DELIVERED).count()
            print(f"  {done}/{len(ids)} delivered, {time.time() - started:.0f}s", flush=True)
            last_report = time.monotonic()
        sample()
        time.sleep(0.25)
    sample()
    last = messages.aggregate(last=Max("delivered_at"))["last"].timestamp()
    return last - started, handed_over, meter


def main():
    options = arguments()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed (the Celery broker), e.g. redis://127.0.0.1:6379/9")
    if not Path(WRK).exists():
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    env = setup(options, tmp_path)

    from projects.models import Project
    from publicity.models import LibraryEntry
    from tests.processes import CeleryStack
    from tests.simulator_process import API_KEY, SimulatorClient, running_simulator

    ids = prepare(options.records)
    connections = options.limit_connections or options.concurrency
    with running_simulator(tmp_path / "simulator") as base_url:
        simulator = SimulatorClient(base_url)
        bodies_file(ids, tmp_path / "bodies.txt")
        limit = simulator_limit(
            base_url, API_KEY, tmp_path / "bodies.txt", connections, options.limit_seconds, tmp_path
        )
        print(
            f"simulator alone: {limit['created']} records created in {limit['duration_us'] / 1e6:.1f}s, "
            f"{limit['other']} other answers, {limit['socket']} socket errors; p50 {limit['p50_us'] / 1000:.1f} ms, "
            f"p99 {limit['p99_us'] / 1000:.1f} ms" + (f"; {limit['sample']}" if limit["sample"] else ""),
            flush=True,
        )
        simulator.reset()
        stack = CeleryStack(
            tmp_path=tmp_path,
            env={**env, "NATIONAL_PLATFORM_URL": base_url, "NATIONAL_PLATFORM_API_KEY": API_KEY},
        )
        try:
            seconds, handed_over, meter = drain(ids, stack, options.concurrency, options.drain_timeout)
        finally:
            stack.stop_all()
        stored = simulator.records()["create_calls"]

    numbers = list(Project.objects.filter(outbox__pk__in=ids).values_list("project_number", flat=True))
    in_library = LibraryEntry.objects.filter(project_number__in=numbers).count()
    once = sum(1 for number in numbers if stored.get(number, {}).get("stored") == 1)
    rate = len(ids) / seconds
    print(
        f"\ndrain: worker --concurrency {options.concurrency}, beat every {options.sweep_seconds:g}s; the hand-over "
        f"of {len(ids)} messages took {handed_over:.2f}s; simulator alone: wrk -c{connections} for "
        f"{options.limit_seconds:g}s; {os.cpu_count()} CPUs shared by the worker, PostgreSQL, Redis, the simulator "
        f"(and other work); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; logs in {tmp_path}"
    )
    print(f"in the library: {in_library}/{len(ids)}; stored exactly once at the simulator: {once}/{len(ids)}")
    print(f"{'records':>8} {'seconds':>8} {'records/s':>10} {'simulator req/s':>16} {'ratio':>6}")
    print(f"{len(ids):>8} {seconds:>8.1f} {rate:>10.1f} {limit['rate']:>16.1f} {rate / limit['rate']:>6.2f}")
    print("goal: ratio >= 0.8")
    report_cpu(limit, meter, len(ids), rate)


def report_cpu(limit, meter: CpuMeter, records: int, rate: float):
    """Where the CPU went, per call alone and per record drained, and the ceiling they set on the ratio."""
    calls = limit["requests"]
    alone = (limit["simulator_ms"] + limit["wrk_ms"]) / calls
    print(f"\nCPU (user + system, core-milliseconds) — the simulator alone, per call ({calls} calls by wrk):")
    print(f"  {'simulator':<28} {limit['simulator_ms'] / calls:>7.2f}")
    print(f"  {'wrk (the load generator)':<28} {limit['wrk_ms'] / calls:>7.2f}")
    print(f"  {'a call, all told':<28} {alone:>7.2f}")
    print(f"CPU during the drain, per record ({records} records; processes seen):")
    total = 0.0
    for name, (milliseconds, count) in meter.totals().items():
        total += milliseconds
        print(f"  {name:<28} {milliseconds / records:>7.2f}  ({count})")
    per_record = total / records
    print(f"  {'a record, all told':<28} {per_record:>7.2f}  (Redis, shared with other work, not counted)")
    cores = os.cpu_count()
    print(
        f"ceiling on this machine: the same {cores} cores bound both runs, so the drain reaches at most "
        f"{alone:.2f} / {per_record:.2f} = {alone / per_record:.2f} of the simulator's limit (measured: "
        f"{rate / limit['rate']:.2f}); {cores} cores fully used would drain {cores * 1000 / per_record:.0f} "
        f"records/s and answer {cores * 1000 / alone:.0f} calls/s alone"
    )


if __name__ == "__main__":
    main()
