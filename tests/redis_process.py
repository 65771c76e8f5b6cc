"""A Redis server of the test's own, for tests that stop it: `redis-server` on a free loopback port, in memory only.

    with own_redis(tmp_path) as redis_server:
        settings.CACHES = redis_server.caches()
        redis_server.stop()            # down: connections refused
        redis_server.start()           # back, on the same port, empty
        with redis_server.paused():    # SIGSTOP: up but silent, as a server that hangs
            ...

The shared Redis (REDIS_URL) is never stopped: other engineers' tests use it.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from tests.needs import needs_service

REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = needs_service(
    REDIS_SERVER is not None,
    reason="needs the redis-server binary (a Redis of the test's own, stopped by it)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def caches(self, *, timeout: float = 0.25) -> dict:
        """settings.CACHES for the portal's cache on this server, as backfill_portal/settings.py builds it."""
        return {
            "default": {
                "BACKEND": "backfill_portal.cache.FailSafeRedisCache",
                "LOCATION": self.url(),
                "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
            }
        }

    def start(self) -> "RedisServer":
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start:\n{(self.directory / 'redis.log').read_text()}"
                )
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        """Down at once (SIGKILL: no goodbye to the clients), then connections are refused."""
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def pause(self):
        """Up but silent: connections are accepted by the kernel and never answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextmanager
    def paused(self):
        self.pause()
        try:
            yield
        finally:
            self.resume()


@contextmanager
def own_redis(directory):
    server = RedisServer(directory).start()
    try:
        yield server
    finally:
        server.stop()
