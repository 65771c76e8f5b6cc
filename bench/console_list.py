"""Benchmark of the review console at 100k or 1M records (a script, not a test; see bench/README.md).

Uses the database bench/notice_pages.py seeds (bench/seed_records.py: --records, 100,000 by default, kept between
runs) and measures, in this process with Django's test client (no web server: what is measured is the server's own
work per request; the public pages' benchmark is the one driven over HTTP by wrk),

- the admin changelist `/admin/projects/project/` as the city (every district's submitted records) and as a
  reviewer of 渝中区 (its own): unfiltered, filtered by status, by status and project type, searched by a word of the
  name, a project number's prefix, an enterprise's credit code and a permit number, and page 500 of the city's list;
- the review page (the change view) of the one record with six stages and of a seeded submitted record;
- the work queue `/review/queue/` (待我审核 and the other tabs) as the reviewer, and the city's.

For each it prints the median and p99 time of --requests requests, the rows the page counts (~ an estimate,
> more than the cap with no estimate shown: review.paginator), the SQL queries a request runs, and the slowest
query's own time. --exact-count measures the admin's own paginator instead (an exact COUNT(*) on every page): the
figures before review.paginator.

    env -u DATABASE_URL .venv/bin/python bench/console_list.py [--records 1000000]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import notice_pages  # noqa: E402  (its default database)
import seed_records  # noqa: E402  (the seeding and Django setup)


def measure(client, url: str, requests: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates compiled, connection open
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = captured.captured_queries
    slowest = max((float(q["time"]) for q in queries), default=0.0)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p99": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        "queries": len(queries),
        "slowest_query": max(queries, key=lambda q: float(q["time"]))["sql"] if queries else "",
        "slowest_sql": slowest * 1000,
        "rows": _result_count(response),
    }


def _result_count(response) -> str:
    context = response.context or {}
    changelist = context.get("cl")
    if changelist is not None:
        if getattr(changelist.paginator, "beyond_cap", False):
            return f">{changelist.paginator.cap}"  # the page says 超过 …: more than counted, no estimate
        estimated = getattr(changelist.paginator, "estimated", False)
        return f"~{changelist.result_count}" if estimated else f"{changelist.result_count}"
    page = context.get("page")
    if page is not None and hasattr(page, "paginator"):
        return f"{page.paginator.count}"
    return "—"


def console_users():
    from django.contrib.auth import get_user_model

    from projects.models import Authority, Membership, Role

    User = get_user_model()
    city, _ = User.objects.get_or_create(username="bench-city", defaults={"is_staff": True})
    Membership.objects.get_or_create(user=city, defaults={"role": Role.CITY})
    reviewer, _ = User.objects.get_or_create(username="bench-console-reviewer", defaults={"is_staff": True})
    Membership.objects.get_or_create(
        user=reviewer, defaults={"role": Role.REVIEWER, "authority": Authority.objects.get(code="500103")}
    )
    return city, reviewer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", notice_pages.DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per URL")
    parser.add_argument("--var-dir", default="/tmp/bench_notice_var")
    parser.add_argument("--show-sql", action="store_true", help="print each URL's slowest query")
    parser.add_argument(
        "--exact-count",
        action="store_true",
        help="the admin's own paginator (COUNT(*) of every match): the 'before'",
    )
    options = parser.parse_args()

    seed_records.ensure_database(options.database_url, fresh=False)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("OTP_REQUIRED_FOR_ROLES", "")  # the console's pages are measured, not the sign-in
    seed_records.setup_django(options.database_url, options.var_dir)
    seed_records.seed(options.records)
    seed_records.real_record()

    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client records the template context (the changelist's row count)
    if options.exact_count:
        from django.core.paginator import Paginator

        from review.admin import ProjectReviewAdmin

        ProjectReviewAdmin.paginator = Paginator

    from projects.models import PermitStage, Project

    city, reviewer = console_users()
    real = Project.objects.get(name="渝中区解放碑示范综合楼工程（基准详情页）")
    permit_number = PermitStage.objects.get(project=real).permit_number
    credit_code = seed_records.credit_code(7)
    base = "/admin/projects/project/"
    urls = {
        "list": {},
        "status filter": {"status__exact": "in_national_library"},
        "status + type": {"status__exact": "in_notice", "project_type__exact": "municipal_general"},
        "search name": {"q": "观音桥"},
        "search number": {"q": "500103"},
        "search credit code": {"q": credit_code},
        "search permit no.": {"q": permit_number},
    }
    submitted = (
        Project.objects.filter(status="submitted", authority__code="500103", name__endswith=seed_records.MARK)
        .order_by("submitted_at")
        .first()
    )
    queue = {
        "queue 待我审核": "/review/queue/",
        "queue 公示中": "/review/queue/?tab=notice",
        "queue 异议待处理": "/review/queue/?tab=objected",
        "queue 报送失败": "/review/queue/?tab=failed",
    }
    pages = {
        "review page 6 stages": f"{base}{real.pk}/change/",
        "review page submitted": f"{base}{submitted.pk}/change/",
    }
    print(f"{Project.objects.count()} records; {options.requests} requests per URL; in-process test client")
    print(
        f"{'who':9} {'URL':21} {'rows':>7} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} {'slowest SQL ms':>14}"
    )
    for who, user in (("city", city), ("reviewer", reviewer)):
        client = Client()
        client.force_login(user)
        cases = dict(urls)
        if who == "city":
            cases["page 500"] = {"p": "500"}
        for name, params in cases.items():
            url = base + ("?" + urlencode(params) if params else "")
            figures = measure(client, url, options.requests)
            print(
                f"{who:9} {name:21} {figures['rows']:>7} {figures['p50']:7.1f} {figures['p99']:7.1f} "
                f"{figures['queries']:7d} {figures['slowest_sql']:14.1f}"
            )
            if options.show_sql:
                print("    ", figures["slowest_query"][:1500])
        more = dict(pages)
        more.update(queue if who == "reviewer" else {"queue 报送失败": queue["queue 报送失败"]})
        for name, url in more.items():
            figures = measure(client, url, options.requests)
            print(
                f"{who:9} {name:21} {figures['rows']:>7} {figures['p50']:7.1f} {figures['p99']:7.1f} "
                f"{figures['queries']:7d} {figures['slowest_sql']:14.1f}"
            )
            if options.show_sql:
                print("    ", figures["slowest_query"][:1500])
    connection.close()


if __name__ == "__main__":
    main()
