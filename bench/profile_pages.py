"""Where a page's time goes (a script, not a test; see bench/README.md): in this process, without a web server,
each URL requested --requests times through Django's WSGI handler (what gunicorn calls: the whole middleware
stack, persistent database connections as in bench/notice_pages.py), timed in wall-clock and in this process's CPU
time, profiled with pyinstrument, and each of its SQL queries run once more under EXPLAIN (ANALYZE, BUFFERS) on
PostgreSQL.

    .venv/bin/python bench/profile_pages.py --database-url postgres://… /bench/bare/ /notices/ '/notices/?q=工程'
    .venv/bin/python bench/profile_pages.py --cached /bench/bare/ /notices/     # the page cache's hit path
    .venv/bin/python bench/profile_pages.py --login bench-city /admin/projects/project/
    .venv/bin/python bench/profile_pages.py --read-only --database-url …/backfill_scale /notices/  # someone's DB

Anonymous by default and without the page cache (PUBLIC_PAGE_CACHE_SECONDS=0): what an uncached request costs.
With --cached, the page cache is on (REDIS_URL: Redis, as in production) and warmed by the first request, so every
measured request is a hit. CPU time (time.process_time) is this process's only, not PostgreSQL's or Redis's: on a
busy machine it moves far less than the wall-clock time, which is why the table at the end leads with it. /bench/bare/
(the bare view: the middleware stack, no query, no template) is the yardstick: the table gives each URL's CPU time as
a multiple of it when it is among the URLs.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_records  # noqa: E402

BARE = "/bench/bare/"


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


class Queries:
    """The queries a request runs (connection.execute_wrapper): their SQL with parameters inlined, and time."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ops = context["connection"].ops
            text = ops.compose_sql(sql, params) if params and hasattr(ops, "compose_sql") else sql
            self.queries.append({"sql": text, "time": f"{time.perf_counter() - started:.4f}"})


class WsgiGet:
    """GET through the WSGI handler, as a server would call it: the headers wrk sends (bench/loadgen.py), the
    body read to the end; the session cookie of --login."""

    def __init__(self, cookie: str = ""):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.cookie = cookie

    def __call__(self, url: str):
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": parts.path,
            "QUERY_STRING": quote(parts.query, safe="=&%+"),  # as sent: percent-encoded
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT_LANGUAGE": "zh-CN",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if self.cookie:
            environ["HTTP_COOKIE"] = self.cookie
        status = []
        body = b"".join(self.handler(environ, lambda s, headers, exc_info=None: status.append(s)))
        return int(status[0].split()[0]), body


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", seed_records_default()))
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--login", help="username to log in as (a console page)")
    parser.add_argument(
        "--cached", action="store_true", help="the page cache on: every measured request a hit"
    )
    parser.add_argument("--no-profile", action="store_true", help="time and EXPLAIN only")
    parser.add_argument("--no-explain", action="store_true", help="time and profile only")
    parser.add_argument(
        "--cpu-profile",
        action="store_true",
        help="cProfile timed by this process's CPU time instead of pyinstrument's wall-clock (sub-ms pages)",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="no migrate or seed: a database someone else owns"
    )
    parser.add_argument("--var-dir", default="/tmp/bench_notice_var")
    options = parser.parse_args()

    os.environ["PUBLIC_PAGE_CACHE_SECONDS"] = "30" if options.cached else "0"
    os.environ["BENCH_BARE_VIEW"] = "1"
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")  # as the benchmark's gunicorn
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,testserver")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # --login measures a console page, not the sign-in: no second factor asked of the bench's users.
    os.environ.setdefault("OTP_REQUIRED_FOR_ROLES", "")
    seed_records.setup_django(options.database_url, options.var_dir, read_only=options.read_only)

    from django.conf import settings
    from django.db import connection

    cookie = ""
    if options.login:
        from django.contrib.auth import get_user_model
        from django.test import Client

        client = Client()
        client.force_login(get_user_model().objects.get(username=options.login))
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    get = WsgiGet(cookie)
    print(
        f"{options.requests} requests per URL through the WSGI handler; page cache "
        f"{'on (' + settings.CACHES['default']['BACKEND'] + ')' if options.cached else 'off'}; "
        f"{'logged in as ' + options.login if options.login else 'anonymous'}"
    )
    summary = []
    for url in options.urls:
        status, _body = get(url)  # warm: templates compiled, connection open, buffers read, the page cached
        assert status == 200, (url, status)
        get(url)
        captured = Queries()
        with connection.execute_wrapper(captured):
            get(url)
        timings, cpu_started = [], time.process_time()
        for _ in range(options.requests):
            started = time.perf_counter()
            get(url)
            timings.append((time.perf_counter() - started) * 1000)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / options.requests
        summary.append((url, statistics.median(timings), cpu_ms, len(captured.queries)))
        print(
            f"\n==== {url}: p50 {statistics.median(timings):.2f} ms, CPU {cpu_ms:.3f} ms a request over "
            f"{options.requests} requests; {len(captured.queries)} queries"
        )
        if options.cpu_profile:
            import cProfile
            import pstats

            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _ in range(options.requests):
                get(url)
            profile.disable()
            stats = pstats.Stats(profile).strip_dirs()
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
        elif not options.no_profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(options.requests):
                get(url)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        if connection.vendor == "postgresql" and not options.no_explain:
            for query in captured.queries:
                sql = query["sql"]
                if not sql.lstrip(" (").upper().startswith("SELECT"):  # a UNION starts with "("
                    continue
                print(f"-- {query['time']} s: {sql[:300]}")
                # The captured SQL has its parameters inlined as text: run it as it is.
                print(explain(sql.replace("%", "%%"), None))
    bare_cpu = next((cpu for url, _wall, cpu, _n in summary if url == BARE), None)
    print(f"\n{'URL':<60} {'p50 ms':>7} {'CPU ms':>7} {'× bare':>6} {'queries':>7}")
    for url, wall, cpu, queries in summary:
        times = f"{cpu / bare_cpu:6.1f}" if bare_cpu else f"{'—':>6}"
        print(f"{url[:60]:<60} {wall:7.2f} {cpu:7.3f} {times} {queries:7d}")


def seed_records_default() -> str:
    import notice_pages

    return notice_pages.DEFAULT_DATABASE_URL


if __name__ == "__main__":
    main()
