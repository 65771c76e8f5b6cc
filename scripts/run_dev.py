#!/usr/bin/env python
"""Run the portal locally: Django's development server, a Celery worker with embedded beat, and the national
platform's simulator (python -m simulator) where NATIONAL_PLATFORM_URL points at this machine.

Started by `make run` (after migrate, load_authorities and seed_demo, which starts the simulator on its own for
the deliveries it seeds, and stops it). Ctrl-C or SIGTERM stops every child;
if any child dies on its own, the others are stopped too and this script exits with that child's code,
so a half-running demo never hides behind a live terminal.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfill_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from demo.broker import prepare_broker_folders  # noqa: E402
from demo.national import simulator_command, simulator_port  # noqa: E402

STOP_TIMEOUT = 10  # seconds a child gets to shut down cleanly before it is killed


def commands(port: str) -> dict[str, list[str]]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "backfill_portal"]
    found = {
        # --noreload: the autoreloader forks a second process that survives signals badly and doubles startup.
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        # One process with beat embedded: enough for the demo (beat runs the notice sweep every minute).
        "worker": [*celery, "worker", "--beat", "--loglevel=INFO", "--concurrency=1"],
    }
    national = simulator_port()
    if national:
        # The national platform's simulator (docs/national-api.md), with the key the portal sends.
        found["national"] = simulator_command(national)
    return found


def print_banner(port: str):
    print()
    print(f"补录平台已启动 / backfill portal running at http://127.0.0.1:{port}/")
    print(f"公示 / public notices: http://127.0.0.1:{port}/notices/")
    if simulator_port():
        print(f"全国平台模拟器 / national platform simulator: {settings.NATIONAL_PLATFORM_URL}")
    if settings.DEMO_MODE:
        from demo.accounts import demo_login_lines, demo_password

        print("演示账号 / demo logins:")
        for line in demo_login_lines(demo_password()):
            print(line)
    print("按 Ctrl-C 停止 / press Ctrl-C to stop")
    print(flush=True)


def is_listening(port: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=0.2):
            return True
    except OSError:
        return False


def stop(children: dict[str, subprocess.Popen]):
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in {STOP_TIMEOUT}s; killing it", file=sys.stderr)
            proc.kill()
            proc.wait()


def main() -> int:
    port = os.environ.get("PORT", "8000")
    if is_listening(port):
        print(f"端口 {port} 已被占用 / port {port} is already in use: set PORT=…", file=sys.stderr)
        return 1
    national = simulator_port()
    if national and is_listening(national):
        print(
            f"端口 {national} 已被占用 / port {national} (the simulator, NATIONAL_PLATFORM_URL) is already in use: "
            "set NATIONAL_PLATFORM_URL=http://127.0.0.1:<free port>",
            file=sys.stderr,
        )
        return 1
    prepare_broker_folders()

    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    children: dict[str, subprocess.Popen] = {}
    for name, argv in commands(port).items():
        # A session of its own: Ctrl-C reaches only this script, which then stops each child once
        # (a second SIGINT would make Celery skip its warm shutdown).
        children[name] = subprocess.Popen(argv, cwd=BASE_DIR, start_new_session=True)

    exit_code = 0
    banner_shown = False
    while not stopping:
        for name, proc in children.items():
            code = proc.poll()
            if code is not None:
                print(f"{name} exited with code {code}; stopping the others", file=sys.stderr)
                exit_code = code or 1
                stopping = True
                break
        else:
            # The banner waits for the server to listen, so the children's start-up output does not bury it.
            if not banner_shown and is_listening(port):
                time.sleep(1)
                print_banner(port)
                banner_shown = True
            time.sleep(0.5)

    stop(children)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
