"""Benchmark of the open API's public 业绩 lookup by credit code at 100k records, against the bare view, with wrk
(a script, not a test; see bench/README.md).

1. Database: DATABASE_URL or --database-url; default the PostgreSQL database `bench_api` on 127.0.0.1 (created with
   createdb if absent). Seeded as bench/notice_pages.py seeds (its functions: 100,000 records of 500 enterprises, 89 %
   entered into the national library, so each enterprise has about 178 entries); skipped when already there.
2. Serves the portal with gunicorn (`-w 2`, sync workers, DEBUG off, persistent database connections, the bare view
   routed by BENCH_BARE_VIEW=1). The API's throttle stays on (each call still counts in the cache, as in
   production) with a rate no run reaches. The API has no response cache: every call reads the database.
3. Load from Debian's wrk (C, one process: it does not become the bottleneck a Python client does), only to
   127.0.0.1: the bare Django view and GET /api/v1/public/performance/<credit code>/ (the first page, 20 records
   with key figures, document numbers and versions), --rounds interleaved rounds of --duration seconds each, so that
   neither gets a systematically warmer or cooler machine. Prints requests/s, p50, p99, non-2xx responses and the
   ratio to the bare view (goal: >= 0.3).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from notice_pages import (  # noqa: E402  (the seeding and server of the public pages' benchmark)
    HOST,
    LOOPBACK_ENV,
    ensure_database,
    seed,
    setup_django,
    start_gunicorn,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_api"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def busiest_credit_code() -> tuple[str, int]:
    """The credit code with the most library entries (a lookup that fills its first page), and their number."""
    from django.db.models import Count

    from publicity.models import LibraryEntry

    # The seed leaves enterprise_credit_code blank on its bulk entries: fill it from the snapshot, once.
    blank = LibraryEntry.objects.filter(enterprise_credit_code="")
    if blank.exists():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE publicity_libraryentry e SET enterprise_credit_code = s.content->'enterprise'->>'credit_code' "
                "FROM publicity_snapshot s WHERE s.id = e.snapshot_id AND e.enterprise_credit_code = ''"
            )
            cursor.execute("ANALYZE publicity_libraryentry")
    top = (
        LibraryEntry.objects.values("enterprise_credit_code")
        .annotate(n=Count("id"))
        .order_by("-n", "enterprise_credit_code")
        .first()
    )
    return top["enterprise_credit_code"], top["n"]


def wrk(port: int, path: str, *, threads: int, connections: int, seconds: int) -> dict:
    """One wrk run; its figures parsed from its --latency report."""
    output = subprocess.run(
        [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            f"http://{HOST}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests": requests,
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": latency("50"),
        "p99": latency("99"),
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket.groups()) if socket else 0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--var-dir", default="/tmp/bench_api_var", help="VAR_DIR")
    options = parser.parse_args()
    if not (1 <= options.duration <= 120 and 1 <= options.rounds <= 10 and 1 <= options.connections <= 256):
        parser.error("--duration 1..120, --rounds 1..10, --connections 1..256")
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    ensure_database(options.database_url, options.fresh)
    setup_django(options.database_url, options.var_dir)
    seconds = seed(options.records)
    credit_code, entries = busiest_credit_code()

    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; seeding took {seconds:.1f}s")
    connection.close()

    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "VAR_DIR": options.var_dir,
        **LOOPBACK_ENV,
        "DJANGO_DEBUG": "0",
        "BENCH_BARE_VIEW": "1",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "ERROR",
        # Counted, never reached: the throttle's cost is measured, its refusals are not.
        "API_PUBLIC_RATE": "1000000000/m",
    }
    urls = {
        "bare view": "/bench/bare/",
        "业绩 API": f"/api/v1/public/performance/{credit_code}/",
    }
    server = start_gunicorn(options.port, options.workers, env)
    results = {name: [] for name in urls}
    try:
        for path in urls.values():  # warm up: connections open, code paths loaded
            wrk(options.port, path, threads=1, connections=2, seconds=2)
        for round_number in range(options.rounds):
            order = list(urls.items()) if round_number % 2 == 0 else list(reversed(urls.items()))
            for name, path in order:
                results[name].append(
                    wrk(
                        options.port,
                        path,
                        threads=options.threads,
                        connections=options.connections,
                        seconds=options.duration,
                    )
                )
                time.sleep(1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\n{options.records} records; credit code {credit_code} has {entries} library entries (first page: 20); "
        f"wrk -t{options.threads} -c{options.connections}, {options.rounds} rounds × {options.duration}s per URL; "
        f"gunicorn -w {options.workers} (sync); {os.cpu_count()} CPUs shared by server, database and wrk"
    )
    print(
        f"{'URL':<10} {'requests':>9} {'non-2xx':>8} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}"
    )
    bare_rate = None
    for name, runs in results.items():
        total = sum(r["requests"] for r in runs)
        rate = sum(r["rate"] for r in runs) / len(runs)
        bare_rate = bare_rate or rate
        p50 = sorted(r["p50"] for r in runs)[len(runs) // 2]
        p99 = max(r["p99"] for r in runs)
        print(
            f"{name:<10} {total:>9} {sum(r['non_2xx'] for r in runs):>8} "
            f"{sum(r['socket_errors'] for r in runs):>7} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f} {rate / bare_rate:>6.2f}"
        )
    print(
        f"\nper round (req/s): { {name: [round(r['rate']) for r in runs] for name, runs in results.items()} }"
    )
    print(
        "Goal: ratio >= 0.3 of the bare view. p50 is the median of the rounds' medians, p99 the worst round's."
    )


if __name__ == "__main__":
    main()
