"""Benchmark of the public pages at 100k or 1M records (a script, not a test; see bench/README.md).

1. Database: DATABASE_URL or --database-url; default the PostgreSQL database `bench_notices` on 127.0.0.1 (created
   if absent; --fresh drops it first). Kept between runs: records already seeded are reused, --records above them
   adds only the difference (bench/seed_records.py: the mix, COPY, the indexes built once).
2. Plus one record made the real way (six stages, evidence, submitted, approved by its district's reviewer).
3. Serves the portal with two gunicorns (`gunicorn backfill_portal.wsgi -w 2`, DEBUG off, persistent database
   connections, the bare view routed by BENCH_BARE_VIEW=1): one with the anonymous page cache (Redis at REDIS_URL,
   PUBLIC_PAGE_CACHE_SECONDS=30), one without (0), so that cached and uncached pages are measured in one run.
4. Drives them with wrk (bench/loadgen.py; the Python client only where wrk is missing), each page right after the
   bare view on the same server, --rounds rounds of --seconds each, varied URLs through a Lua script: 24 search
   words (工程 in nearly every record, rare ones, one that matches nothing) × 3 pages, 20 enterprises' names and
   credit codes, 60 notices. Prints requests/s, p50, p99 and the ratio to the bare view for each page.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from seed_records import LOOPBACK_ENV, ensure_database, real_record, seed, setup_django  # noqa: E402, F401

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_notices"
HOST = loadgen.HOST

# Common (工程 is in most project names and enterprise names, 重庆 in every enterprise name), middling (a district, a
# kind of building, a road) and rare (a combination, an exact project number added below), and one with no match.
SEARCH_WORDS = [
    "工程", "重庆", "项目", "建设工程", "住宅小区", "渝中区", "观音桥", "二期", "安置房", "学校", "医院门诊楼", "桥梁",
    "宏达", "鸳鸯", "消防站", "钢结构", "老旧小区改造", "走马垃圾中转站", "白市驿隧道", "南川区", "幕墙", "不存在的词语",
]  # fmt: skip
SEARCH_PAGES = (1, 2, 5)


# ---------------------------------------------------------------- the servers


def start_gunicorn(port: int, workers: int, env: dict) -> subprocess.Popen:
    import http.client

    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [
            gunicorn,
            "backfill_portal.wsgi",
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            status, _ = loadgen.fetch(http.client.HTTPConnection(HOST, port, timeout=2), loadgen.BARE)
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def stop(process: subprocess.Popen):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


# ---------------------------------------------------------------- what is measured


def sample_paths(detail_id: int) -> dict[str, list[str]]:
    """The varied URLs of each page, drawn from the seeded data (the same ones at every run of a database)."""
    from projects.models import Enterprise
    from publicity.models import LibraryEntry, Notice

    rng = random.Random(17)
    public = list(
        Notice.objects.filter(state__in=["running", "paused"]).order_by("id").values_list("id", flat=True)
    )
    numbers = list(LibraryEntry.objects.order_by("id").values_list("project_number", flat=True)[:5000])
    words = SEARCH_WORDS + rng.sample(numbers, 2)  # two exact project numbers: the rarest searches
    # Enterprises with entered records: the biggest few (thousands of records at 1M) and a spread of smaller ones.
    codes = list(
        LibraryEntry.objects.order_by().values_list("enterprise_credit_code", flat=True).distinct()[:3000]
    )
    codes = sorted(codes)[:5] + rng.sample(codes, 15)
    names = dict(Enterprise.objects.filter(credit_code__in=codes).values_list("credit_code", "name"))
    return {
        "notices": [f"/notices/?page={n}" for n in (1, 2, 3, 4, 5)],
        "search": [f"/notices/?q={quote(w)}&page={p}" for w in words for p in SEARCH_PAGES],
        "detail": [f"/notices/{detail_id}/"] + [f"/notices/{n}/" for n in rng.sample(public, 59)],
        "library name": [f"/library/?q={quote(names[c])}" for c in codes],
        "performance code": [f"/library/performance/?q={c}" for c in codes],
        "performance name": [f"/library/performance/?q={quote(names[c])}" for c in codes],
        "enterprise page": [f"/library/enterprises/{c}/" for c in codes],
    }


def cases(cached_port: int, uncached_port: int, detail_id: int) -> list[loadgen.Case]:
    paths = sample_paths(detail_id)
    Case = loadgen.Case
    return [
        Case("/notices/ cached", cached_port, ["/notices/"]),
        Case("search cached (1 word)", cached_port, [f"/notices/?q={quote('观音桥')}"]),
        Case("notice page cached", cached_port, [f"/notices/{detail_id}/"]),
        Case("/notices/ uncached p1-5", uncached_port, paths["notices"]),
        Case("search uncached, varied", uncached_port, paths["search"]),
        Case("notice page uncached", uncached_port, paths["detail"]),
        Case("library: enterprise name", uncached_port, paths["library name"]),
        Case("业绩 lookup: credit code", uncached_port, paths["performance code"]),
        Case("业绩 lookup: enterprise name", uncached_port, paths["performance name"]),
        Case("业绩 enterprise page", uncached_port, paths["enterprise page"]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--records", type=int, default=100_000, help="seed up to this many records (kept)")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--seconds", type=float, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--port", type=int, default=8765, help="the cached server; the uncached one is port + 1"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="use the Python client even if wrk exists"
    )
    parser.add_argument("--only", help="measure only the pages whose name contains this")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--var-dir", default="/tmp/bench_notice_var", help="VAR_DIR (evidence files etc.)")
    options = parser.parse_args()
    if (
        not 1 <= options.connections <= 256
        or not 0.5 <= options.seconds <= 120
        or not 1 <= options.rounds <= 20
    ):
        parser.error("--connections 1..256, --seconds 0.5..120, --rounds 1..20")

    ensure_database(options.database_url, options.fresh)
    setup_django(options.database_url, options.var_dir)
    seconds = seed(options.records)
    detail_id, detail_name = real_record()

    from django.db import connection

    from projects.models import Project
    from publicity.models import LibraryEntry, Notice

    counts = {
        "records": Project.objects.count(),
        "notices public": Notice.objects.filter(state__in=["running", "paused"]).count(),
        "library entries": LibraryEntry.objects.count(),
    }
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; seeding took {seconds:.1f}s; {counts}"
    )
    if options.seed_only:
        return
    generator = loadgen.which_generator(options.python_client)
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "VAR_DIR": options.var_dir,
        **LOOPBACK_ENV,
        "DJANGO_DEBUG": "0",
        "BENCH_BARE_VIEW": "1",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
    }
    if not env.get("REDIS_URL"):
        print("note: REDIS_URL is not set: the cached server caches in the database table, not in Redis")
    measured = cases(options.port, options.port + 1, detail_id)
    if options.only:
        measured = [case for case in measured if options.only in case.name]
    connection.close()
    servers = []
    try:
        servers.append(
            start_gunicorn(options.port, options.workers, {**env, "PUBLIC_PAGE_CACHE_SECONDS": "30"})
        )
        servers.append(
            start_gunicorn(options.port + 1, options.workers, {**env, "PUBLIC_PAGE_CACHE_SECONDS": "0"})
        )
        loadgen.run_cases(
            measured, generator, options.seconds, options.rounds, options.connections, options.wrk_threads
        )
    finally:
        for server in servers:
            stop(server)

    print(
        f"\n{counts['records']} records; generator: {generator}"
        + (
            f" (-t {options.wrk_threads} -c {options.connections})"
            if generator == "wrk"
            else f" ({options.connections} threads)"
        )
        + f"; {options.rounds} rounds × {options.seconds:g} s per page, each after a bare-view run; "
        f"gunicorn -w {options.workers} (sync); {loadgen.cpu_note()}"
    )
    print(loadgen.table(measured))
    print(
        f"\nratio: the page's requests/s over the bare view's in the runs paired with it (bare/s). detail page: "
        f"“{detail_name}” and 59 other public notices. Goals at 1M: cached >= 0.6, /notices/ uncached >= 0.25, "
        "search uncached >= 0.12, p99 <= 100 ms."
    )


if __name__ == "__main__":
    main()
