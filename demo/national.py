"""The national platform's simulator for the demo (docs/national-api.md): how it is started, by scripts/run_dev.py
for `make run` and by the seed for the deliveries it makes before run_dev starts it.

The seed delivers through publicity.services.deliver, the very service the Celery worker runs, so the library's
entries carry the national ids the simulator gave them; the simulator keeps what it received in
VAR_DIR/simulator.sqlite3, the file run_dev's simulator then serves.
"""

import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 15  # seconds
# Talk to the local process directly, whatever http_proxy says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def simulator_port() -> str | None:
    """The port of NATIONAL_PLATFORM_URL when it is this machine (the embedded default http://127.0.0.1:8900):
    the simulator is started there. None when it points elsewhere (a real platform): nothing to start."""
    url = urlsplit(settings.NATIONAL_PLATFORM_URL)
    if url.hostname not in ("127.0.0.1", "localhost"):
        return None
    return str(url.port or 80)


def simulator_command(port: str) -> list[str]:
    """`python -m simulator` on `port`, with the key the portal sends and its records in VAR_DIR."""
    return [
        sys.executable, "-m", "simulator",
        "--port", port,
        "--db", str(Path(settings.VAR_DIR) / "simulator.sqlite3"),
        "--api-key", settings.NATIONAL_PLATFORM_API_KEY,
    ]  # fmt: skip


def is_up(port: str) -> bool:
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}/_control/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_simulator():
    """Yield True once the simulator answers on NATIONAL_PLATFORM_URL: the one already running there, or one
    started for the block and stopped after it. Yield False when the URL is not this machine's: a demo never
    sends its fictitious records to a real platform."""
    port = simulator_port()
    if port is None:
        yield False
        return
    if is_up(port):
        yield True
        return
    process = subprocess.Popen(
        simulator_command(port), cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not is_up(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"全国平台模拟器未能在端口{port}启动 / the national platform simulator did not start on port "
                    f"{port} (is the port taken? set NATIONAL_PLATFORM_URL=http://127.0.0.1:<free port>)"
                )
            time.sleep(0.05)
        yield True
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
