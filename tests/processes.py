"""Real Celery processes for tests: a worker and beat started as children, on Redis, against the test database.

`celery.contrib.pytest`'s worker runs in a thread of the test process: it cannot be killed with SIGKILL, it shares
the test's database connection, and it never shows what a separate process sees. These are the real thing:

    def test_it_delivers(celery_stack, national_platform):
        worker = celery_stack.worker()            # `celery -A backfill_portal worker` (its own session)
        beat = celery_stack.beat()                # `celery -A backfill_portal beat --schedule <tmp>`
        ...
        wait_for(lambda: project_status(pk) == "in_national_library", timeout=30, what="...", logs=[worker])
        worker.kill()                             # SIGKILL to the worker and its pool children

Only on PostgreSQL (another process cannot see SQLite's in-memory test database) and with REDIS_URL set (the
broker): test modules skip themselves otherwise, and fail with CI=true (see `needs_postgresql_and_redis`). The fixtures need the test
database committed, so they ask for `transactional_db`.

Registered as a plugin in tests/conftest.py (`pytest_plugins`), so its fixtures are available to every module.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.needs import needs_service

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60  # seconds a worker or beat gets to start (Django setup + broker connection)
STOP_TIMEOUT = 15  # seconds a warm shutdown gets before the process group is killed

# Fast clocks for tests: backoff, leases and the beat sweep in (fractions of) seconds instead of minutes. The lease
# outlasts the HTTP timeout (as in production), and both leave room for a slow answer on a loaded 2-core machine:
# a call given up too early would be sent again (harmless, a replay, but not what most tests are about).
FAST_TIMINGS = {
    "OUTBOX_BACKOFF_BASE_SECONDS": "0.2",
    "OUTBOX_BACKOFF_MAX_SECONDS": "2",
    "OUTBOX_LEASE_SECONDS": "8",
    "PUBLICITY_SWEEP_SECONDS": "1",
    "NATIONAL_PLATFORM_TIMEOUT": "6",
}


def real_processes_available() -> tuple[bool, str]:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return False, (
            "needs PostgreSQL (DATABASE_URL): a Celery worker is another process, and SQLite's test database "
            "lives in the test process's memory, invisible to it"
        )
    if not settings.REDIS_URL:
        return False, "needs REDIS_URL: the real worker and beat talk through a Redis broker"
    return True, ""


_available, _reason = real_processes_available()
needs_postgresql_and_redis = needs_service(_available, reason=_reason)


def database_url(settings_dict) -> str:
    """A DATABASE_URL for the database Django is connected to (in a test: the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = user + (f":{quote(password, safe='')}" if password else "")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


# ---------------------------------------------------------------- waiting with deadlines


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.1, logs=()):
    """Poll `condition()` until it returns something truthy (returned); fail after `timeout` seconds, saying
    what was awaited and showing the end of each process log in `logs`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            tails = "".join(f"\n--- {process.name} (last lines) ---\n{process.tail()}" for process in logs)
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}{tails}")
        time.sleep(interval)


def stays(condition, *, seconds: float, interval: float = 0.2) -> bool:
    """True if `condition()` holds at every poll for `seconds` (to show that nothing happens)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(interval)
    return bool(condition())


# ---------------------------------------------------------------- one child process


class ChildProcess:
    """A `celery` command in a session of its own (so the worker and its pool children die together), its
    output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path, ready_marker: str):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.ready_marker = ready_marker
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> "ChildProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, timeout=READY_TIMEOUT, what=f"{self.name} to start", logs=[self])
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
        return self.ready_marker in self.log()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self):
        """Warm shutdown (SIGTERM: finish the task at hand), then SIGKILL to the whole group if it hangs."""
        if not self.is_running():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        self._kill_group_leftovers()

    def kill(self):
        """SIGKILL to the process and every child of its session: a machine that lost power."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def _kill_group_leftovers(self):
        # Pool children that outlived their parent (they should not) would keep taking tasks.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- the worker, beat and the broker


class CeleryStack:
    """Starts workers and beat with one environment (the test database, Redis, the simulator, fast timings);
    stops every process it started."""

    def __init__(self, *, tmp_path: Path, env: dict):
        self.tmp_path = tmp_path
        self.env = env
        self.processes: list[ChildProcess] = []
        self._count = 0

    def _celery(self, *args) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "backfill_portal", *args]

    def worker(self, *, concurrency: int = 2, **env) -> ChildProcess:
        """`celery worker` on the default queue. `env` overrides settings for this worker only, e.g.
        NATIONAL_PLATFORM_API_KEY="wrong"."""
        self._count += 1
        name = f"worker{self._count}"
        argv = self._celery(
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-Q",
            "celery",
            "-n",
            f"{name}-{os.getpid()}@%h",
            # No chatter with other workers: nothing here needs it, and start-up is quicker without.
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        )
        return self._start(name, argv, env, ready_marker=" ready.")

    def beat(self, **env) -> ChildProcess:
        """`celery beat` with its schedule file in the test's tmp dir (a fresh schedule: every entry due now)."""
        self._count += 1
        name = f"beat{self._count}"
        argv = self._celery("beat", "--loglevel=INFO", "--schedule", str(self.tmp_path / f"{name}-schedule"))
        return self._start(name, argv, env, ready_marker="beat: Starting")

    def _start(self, name, argv, env, ready_marker) -> ChildProcess:
        process = ChildProcess(
            name,
            argv,
            {**self.env, **{key: str(value) for key, value in env.items()}},
            self.tmp_path / f"{name}.log",
            ready_marker,
        )
        self.processes.append(process)
        return process.start()

    def stop_all(self):
        for process in reversed(self.processes):  # beat first: it would keep sending to a stopped worker
            process.stop()

    def logs(self) -> list[ChildProcess]:
        return list(self.processes)


def purge_broker():
    """Empty the default queue and forget unacknowledged deliveries left by earlier tests' killed workers
    (Redis would hand them out again after the visibility timeout, to a test that never made them)."""
    import redis
    from django.conf import settings

    from backfill_portal.celery import app

    app.control.purge()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete("unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@pytest.fixture
def national_platform(tmp_path):
    """The national-platform simulator as a real HTTP process: (base_url, SimulatorClient)."""
    from tests.simulator_process import SimulatorClient, running_simulator

    with running_simulator(tmp_path / "simulator") as base_url:
        yield base_url, SimulatorClient(base_url)


@pytest.fixture
def celery_stack(transactional_db, national_platform, tmp_path, settings):
    """Start workers and beat on demand (`celery_stack.worker()`, `.beat()`); all are stopped at the end.

    They use the test database (a `transaction=True` test: what the test writes is committed and visible to
    them), REDIS_URL as broker, the simulator at NATIONAL_PLATFORM_URL, and FAST_TIMINGS. The test process is
    pointed at the same simulator, so in-process service calls and the workers agree.
    """
    from django.db import connection

    from tests.simulator_process import API_KEY

    base_url, _client = national_platform
    settings.NATIONAL_PLATFORM_URL = base_url
    settings.NATIONAL_PLATFORM_API_KEY = API_KEY
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backfill_portal.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "NATIONAL_PLATFORM_URL": base_url,
        "NATIONAL_PLATFORM_API_KEY": API_KEY,
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        **FAST_TIMINGS,
    }
    purge_broker()
    stack = CeleryStack(tmp_path=tmp_path, env=env)
    try:
        yield stack
    finally:
        # Before the test database is flushed: no child may hold a connection (or a lock) on it.
        stack.stop_all()
