"""Benchmark of the public pages at 100k records (a script, not a test; see bench/README.md).

1. Database: DATABASE_URL or --database-url; default the PostgreSQL database `bench_notices` on 127.0.0.1 (created
   with createdb if absent). `migrate`, the cache table, the 43 authorities.
2. Seeds --records records with bulk_create (Projects with the minimal fields, a version-1 Snapshot each, a
   Notice each: --running share running, --paused share paused by an objection, the rest closed and entered
   with a LibraryEntry), plus one record made the real way (six stages, evidence, submitted, approved by its
   district's reviewer) whose notice page is the detail page measured. Skipped when the database already has
   the records (--fresh drops and recreates the database).
3. Serves the portal with gunicorn (a subprocess: `gunicorn backfill_portal.wsgi -w 2 -b 127.0.0.1:<port>`,
   DEBUG off, persistent database connections, the bare view routed by BENCH_BARE_VIEW=1).
4. One load generator, in this process: Python threads, one http.client connection each (kept alive where the
   server keeps it; gunicorn's sync workers close it after each response), --requests per URL, bounded in count
   and in time, only 127.0.0.1. The URLs run one after another, in --rounds interleaved rounds so that none gets
   a systematically warmer or cooler machine. Prints requests/s, p50 and p99 for each URL and its ratio to the
   bare Django view (goal: >= 0.6).
"""

import argparse
import datetime
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_notices"
HOST = "127.0.0.1"  # the load generator talks to this machine only

ROADS = [
    "解放碑", "朝天门", "观音桥", "南坪", "杨家坪", "沙坪坝", "三峡广场", "大坪", "石桥铺", "两路口",
    "菜园坝", "鹅岭", "化龙桥", "李子坝", "红旗河沟", "龙头寺", "礼嘉", "蔡家", "西永", "大学城",
    "茶园", "鱼洞", "李家沱", "北碚", "悦来", "空港", "水土", "龙兴", "界石", "南岸",
]  # fmt: skip
KINDS = ["综合楼", "住宅小区", "安置房", "学校", "医院门诊楼", "道路改造", "桥梁", "污水管网", "厂房", "商业中心"]  # fmt: skip
SEARCH_WORD = "观音桥"  # in 1 name of 30: a search that finds a few hundred notices, a page of 20


# ---------------------------------------------------------------- the database


def ensure_database(url: str, fresh: bool):
    """Create the PostgreSQL database if it does not exist (or drop and recreate it with --fresh)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return
    name = parts.path.lstrip("/")
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    exists = subprocess.run(
        ["psql", *args, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists and fresh:
        subprocess.run(["dropdb", *args, name], env=env, check=True)
        exists = ""
    if not exists:
        subprocess.run(["createdb", *args, name], env=env, check=True)
        print(f"created database {name}")


# A benchmark speaks plain HTTP on loopback with DEBUG off: no HTTPS redirect, secure-only cookies or HSTS (README:
# production environment), and a key of its own (the settings refuse the demo key when DEBUG is off).
LOOPBACK_ENV = {
    "DJANGO_SECRET_KEY": "bench-only-secret-key-on-loopback-0123456789abcdef",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
}


def setup_django(database_url: str, var_dir: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ["VAR_DIR"] = var_dir
    for name, value in LOOPBACK_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfill_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    call_command("load_authorities", verbosity=0)


# ---------------------------------------------------------------- seeding


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-seed", defaults={"is_active": False})
    return user


def seed_enterprises(count: int):
    from stdnum.cn import uscc

    from projects.models import Enterprise, EnterpriseKind

    existing = {e.credit_code: e for e in Enterprise.objects.filter(name__startswith="重庆基准测试")}
    new = []
    for n in range(count):
        base = f"91500103MB{n:07d}"
        code = base + uscc.calc_check_digit(base)
        if code not in existing:
            new.append(
                Enterprise(
                    name=f"重庆基准测试第{n}建设工程有限公司",
                    credit_code=code,
                    kind=EnterpriseKind.CONSTRUCTION,
                    contact_phone=f"139{n:08d}",
                )
            )
    Enterprise.objects.bulk_create(new, batch_size=1000)
    return list(Enterprise.objects.filter(name__startswith="重庆基准测试").order_by("id"))


def seed(records: int, running_share: float, paused_share: float, batch: int = 5000):
    """bulk_create in chunks, one transaction each: Project → Snapshot → Notice (→ LibraryEntry)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from projects.models import Authority, Project, ProjectType, Status
    from publicity import snapshots
    from publicity.models import LibraryEntry, Notice, NoticeState, Snapshot
    from publicity.timing import notice_end

    user = bench_user()
    enterprises = seed_enterprises(500)
    authorities = list(Authority.objects.order_by("code"))
    types = [ProjectType.BUILDING_GENERAL, ProjectType.MUNICIPAL_GENERAL, ProjectType.SPECIALTY]
    rng = random.Random(2018)
    now = timezone.now()
    running_cut = int(records * running_share)
    paused_cut = running_cut + int(records * paused_share)
    stage_none = {code: None for code in snapshots.STAGE_ORDER}
    first_day = datetime.date(2018, 1, 1)
    done = Project.objects.filter(name__endswith="（基准）").count()
    print(f"seeding {records - done} records ({done} already there) ...", flush=True)
    started = time.monotonic()
    for start in range(done, records, batch):
        indexes = range(start, min(start + batch, records))
        with transaction.atomic():
            projects = []
            for i in indexes:
                authority = authorities[i % len(authorities)]
                county = authority.division_code or "500000"
                day = first_day + datetime.timedelta(days=i // 9000)
                status = (
                    Status.IN_NOTICE
                    if i < running_cut
                    else Status.OBJECTED
                    if i < paused_cut
                    else Status.IN_NATIONAL_LIBRARY
                )
                projects.append(
                    Project(
                        enterprise=enterprises[i % len(enterprises)],
                        authority=authority,
                        project_number=f"{county}{day:%y%m%d}{i % 9000 + 1:04d}",
                        county_code=county,
                        name=f"{authority.name}{ROADS[i % len(ROADS)]}{KINDS[i % len(KINDS)]}工程{i}号（基准）",
                        address=f"重庆市{authority.name}{ROADS[i % len(ROADS)]}{i % 200 + 1}号",
                        project_type=types[i % len(types)],
                        is_completed=True,
                        status=status,
                        created_by=user,
                    )
                )
            Project.objects.bulk_create(projects, batch_size=batch)
            snaps = []
            for i, project in zip(indexes, projects, strict=True):
                authority = authorities[i % len(authorities)]
                enterprise = enterprises[i % len(enterprises)]
                content = {
                    "project_number": project.project_number,
                    "data_source": snapshots.DATA_SOURCE_BACKFILL,
                    "data_level": snapshots.DATA_LEVEL_DISTRICT,
                    "enterprise": {"name": enterprise.name, "credit_code": enterprise.credit_code},
                    "authority": {"code": authority.code, "name": authority.name},
                    "project": {
                        "project_number": project.project_number,
                        "name": project.name,
                        "address": project.address,
                        "county_code": project.county_code,
                        "project_type": project.project_type,
                        "is_classified": False,
                        "is_completed": True,
                        "start_basis": "permit",
                        "total_investment": None,
                        "total_area": None,
                    },
                    "stages": stage_none,
                }
                if i < paused_cut:
                    created = now - datetime.timedelta(seconds=rng.randrange(0, 9 * 86400))
                else:
                    created = timezone.make_aware(
                        datetime.datetime.combine(first_day, datetime.time(9))
                    ) + datetime.timedelta(minutes=(i * 37) % (7 * 365 * 1440))
                snaps.append(
                    Snapshot(
                        project=project,
                        version=1,
                        content=content,
                        content_hash=Snapshot.hash_of(content),
                        created_at=created,
                        reason="审核通过",
                    )
                )
            Snapshot.objects.bulk_create(snaps, batch_size=batch)
            notices, entries = [], []
            for i, project, snap in zip(indexes, projects, snaps, strict=True):
                ends = notice_end(snap.created_at, mode="calendar")
                state = (
                    NoticeState.RUNNING
                    if i < running_cut
                    else NoticeState.PAUSED
                    if i < paused_cut
                    else NoticeState.CLOSED
                )
                notices.append(
                    Notice(
                        snapshot=snap,
                        project=project,
                        state=state,
                        starts_at=snap.created_at,
                        ends_at=ends,
                        paused_at=now if state == NoticeState.PAUSED else None,
                        remaining_seconds=max(0, int((ends - now).total_seconds()))
                        if state == NoticeState.PAUSED
                        else None,
                        closed_at=ends if state == NoticeState.CLOSED else None,
                        project_number=project.project_number,
                        project_name=project.name,
                        enterprise_name=snap.content["enterprise"]["name"],
                        authority_id=project.authority_id,
                        project_type=project.project_type,
                        document_numbers="",
                    )
                )
                if state == NoticeState.CLOSED:
                    entries.append(
                        LibraryEntry(
                            project=project,
                            national_id=f"NP-{project.project_number}",
                            snapshot=snap,
                            entered_at=ends + datetime.timedelta(hours=1),
                            project_number=project.project_number,
                            project_name=project.name,
                            enterprise_name=snap.content["enterprise"]["name"],
                            authority_id=project.authority_id,
                            project_type=project.project_type,
                        )
                    )
            Notice.objects.bulk_create(notices, batch_size=batch)
            LibraryEntry.objects.bulk_create(entries, batch_size=batch)
        print(f"  {indexes.stop:>7} records, {time.monotonic() - started:5.1f}s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.monotonic() - started


def real_record():
    """One record made the real way, so the detail page measured renders a full six-stage snapshot.
    Returns (notice id, project name); reused when already there."""
    from django.db import transaction

    from projects import services as project_services
    from projects.audit import Actor
    from projects.models import Authority, BackfillWindow, Enterprise, EnterpriseKind, Membership, Role
    from publicity.models import Notice
    from review import services as review_services
    from tests.builders import make_project

    name = "渝中区解放碑示范综合楼工程（基准详情页）"
    notice = Notice.objects.filter(project_name=name).first()
    if notice:
        return notice.pk, name
    from django.contrib.auth import get_user_model
    from stdnum.cn import uscc

    User = get_user_model()
    authority = Authority.objects.get(code="500103")
    with transaction.atomic():
        for kind in EnterpriseKind.values:
            BackfillWindow.objects.get_or_create(
                enterprise_kind=kind,
                defaults={"opens_on": datetime.date(2018, 1, 1), "closes_on": datetime.date(2099, 12, 31)},
            )
        base = "91500103MC0099999"
        enterprise = Enterprise.objects.create(
            name="重庆基准详情建设有限公司",
            credit_code=base + uscc.calc_check_digit(base),
            kind=EnterpriseKind.CONSTRUCTION,
            contact_phone="13900000000",
        )
        clerk = User.objects.create(username="bench-clerk", is_active=False)
        Membership.objects.create(user=clerk, role=Role.ENTERPRISE, enterprise=enterprise)
        reviewer = User.objects.create(username="bench-reviewer", is_active=False, is_staff=True)
        Membership.objects.create(user=reviewer, role=Role.REVIEWER, authority=authority)
        project = make_project(enterprise, clerk, authority, name=name)
        project = project_services.submit_project(actor=Actor(user=clerk), project=project)
        review_services.approve(actor=Actor(user=reviewer), project=project)
    return Notice.objects.get(project=project).pk, name


# ---------------------------------------------------------------- the server


def start_gunicorn(port: int, workers: int, env: dict) -> subprocess.Popen:
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
            status, _ = fetch(http.client.HTTPConnection(HOST, port, timeout=2), "/bench/bare/")
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


# ---------------------------------------------------------------- the load generator


def fetch(connection: http.client.HTTPConnection, path: str):
    connection.request("GET", path, headers={"Host": HOST, "Accept-Language": "zh-CN"})
    response = connection.getresponse()
    # A response the server closes also closes the connection; the next request reopens it.
    body = response.read()
    return response.status, body


def drive(port: int, path: str, requests: int, threads: int, max_seconds: float):
    """`requests` GETs of `path` from `threads` threads; returns (latencies in s, elapsed s, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + max_seconds

    def worker():
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            began = time.perf_counter()
            try:
                status, body = fetch(connection, path)
            except (OSError, http.client.HTTPException) as problem:
                connection.close()
                with lock:
                    errors.append(repr(problem))
                continue
            mine.append(time.perf_counter() - began)
            if status != 200 or not body:
                with lock:
                    errors.append(f"HTTP {status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, time.perf_counter() - began, errors


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--running", type=float, default=0.10, help="share of records in a running notice")
    parser.add_argument("--paused", type=float, default=0.01, help="share of records in a paused notice")
    parser.add_argument("--requests", type=int, default=2000, help="requests per URL")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-seconds", type=float, default=120, help="time limit per URL and round")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--var-dir", default="/tmp/bench_notice_var", help="VAR_DIR (evidence files etc.)")
    options = parser.parse_args()
    if options.requests < 1 or options.requests > 100_000 or not 1 <= options.threads <= 64:
        parser.error("--requests must be 1..100000 and --threads 1..64")

    ensure_database(options.database_url, options.fresh)
    setup_django(options.database_url, options.var_dir)
    seconds = seed(options.records, options.running, options.paused)
    detail_id, detail_name = real_record()

    from django.db import connection

    from publicity.models import LibraryEntry, Notice

    counts = {
        "notices public": Notice.objects.filter(state__in=["running", "paused"]).count(),
        "notices closed": Notice.objects.filter(state="closed").count(),
        "library entries": LibraryEntry.objects.count(),
    }
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; seeding took {seconds:.1f}s; {counts}"
    )
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
        "LOG_LEVEL": "WARNING",
    }
    urls = {
        "bare view": "/bench/bare/",
        "/notices/": "/notices/",
        "search": f"/notices/?q={quote(SEARCH_WORD)}",
        "detail": f"/notices/{detail_id}/",
    }
    server = start_gunicorn(options.port, options.workers, env)
    results = {name: ([], 0.0, []) for name in urls}
    try:
        for path in urls.values():  # warm up: templates compiled, connections open, caches filled
            drive(options.port, path, 50, options.threads, 30)
        per_round = max(1, options.requests // options.rounds)
        for round_number in range(options.rounds):
            order = list(urls.items()) if round_number % 2 == 0 else list(reversed(urls.items()))
            for name, path in order:
                latencies, elapsed, errors = drive(
                    options.port, path, per_round, options.threads, options.max_seconds
                )
                total = results[name]
                results[name] = (total[0] + latencies, total[1] + elapsed, total[2] + errors)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\n{options.records} records, {options.requests} requests per URL, {options.threads} threads, "
        f"gunicorn -w {options.workers} (sync), {os.cpu_count()} CPUs shared by server, database and load generator"
    )
    print(
        f"{'URL':<12} {'path':<36} {'n':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}"
    )
    bare_rate = None
    for name, path in urls.items():
        latencies, elapsed, errors = results[name]
        rate = len(latencies) / elapsed if elapsed else 0.0
        bare_rate = bare_rate or rate
        p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
        p99 = percentile(latencies, 99) * 1000 if latencies else float("nan")
        print(
            f"{name:<12} {path[:36]:<36} {len(latencies):>6} {len(errors):>6} {rate:>8.0f} "
            f"{p50:>8.1f} {p99:>8.1f} {rate / bare_rate:>6.2f}"
        )
        if errors:
            print(f"    first errors: {errors[:3]}")
    print(
        f"\ndetail page: “{detail_name}”; search word: “{SEARCH_WORD}”. Goal: ratio >= 0.6 of the bare view."
    )


if __name__ == "__main__":
    main()
