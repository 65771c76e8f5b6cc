"""Where a page's time goes (a script, not a test; see bench/README.md): in this process, without a web server,
each URL requested --requests times through Django's test client (the whole middleware stack), timed, profiled with
pyinstrument, and each of its SQL queries run once more under EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL.

    .venv/bin/python bench/profile_pages.py --database-url postgres://… /notices/ '/notices/?q=工程'
    .venv/bin/python bench/profile_pages.py --login bench-city /admin/projects/project/

Anonymous by default and without the page cache (PUBLIC_PAGE_CACHE_SECONDS=0): what an uncached request costs.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_records  # noqa: E402


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", seed_records_default()))
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--login", help="username to log in as (a console page)")
    parser.add_argument("--no-profile", action="store_true", help="time and EXPLAIN only")
    parser.add_argument("--var-dir", default="/tmp/bench_notice_var")
    options = parser.parse_args()

    os.environ["PUBLIC_PAGE_CACHE_SECONDS"] = "0"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    seed_records.setup_django(options.database_url, options.var_dir)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if options.login:
        client.force_login(get_user_model().objects.get(username=options.login))
    for url in options.urls:
        response = client.get(url)  # warm: templates compiled, connection open, buffers read
        assert response.status_code == 200, (url, response.status_code)
        connection.queries_log.clear()  # request_started resets it: start the capture from empty
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        timings = []
        for _ in range(options.requests):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"\n==== {url}: p50 {statistics.median(timings):.2f} ms over {options.requests} requests; "
            f"{len(captured.captured_queries)} queries"
        )
        if not options.no_profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(options.requests):
                client.get(url)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        if connection.vendor == "postgresql":
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                print(f"-- {query['time']} s: {sql[:300]}")
                # The captured SQL has its parameters inlined as text: run it as it is.
                print(explain(sql.replace("%", "%%"), None))


def seed_records_default() -> str:
    import notice_pages

    return notice_pages.DEFAULT_DATABASE_URL


if __name__ == "__main__":
    main()
