"""The benchmarks' database: created if absent, migrated, seeded with N records (100,000 by default; 1,000,000 in
about ten minutes on PostgreSQL), kept between runs (see bench/README.md).

Record i of the seed is a pure function of i, so a database seeded with 100,000 is topped up to 1,000,000 by
seeding records 100,000 … 999,999 only, and a rerun with the records already there seeds nothing.

The mix (per 100 records, spread over the 43 authorities):

    4 draft · 2 submitted (waiting in the reviewers' queues, some past the review time limit) · 1 returned ·
    1 rejected · 8 in a running notice · 1 paused by an objection · 83 closed and entered in the national library

20,000 enterprises with plausible names (place + trade name + trade, most of them 建设/市政/安装工程…有限公司),
a few with many records, most with a few; project names of a district, a road or quarter, a kind of building and
often a phase or lot ("…二期工程"), project numbers as the portal issues them (county + yyMMdd + serial).

On PostgreSQL the rows go in with COPY (psycopg's `cursor.copy`), four tables per chunk in one transaction; when a
run adds more than INDEX_REBUILD_ABOVE rows, the four tables' secondary indexes (B-tree and trigram GIN, not the
ones behind a constraint) are dropped first and built again at the end — building a GIN index once is many times
cheaper than updating it row by row. Their definitions are kept in a table of their own first, so an interrupted
run rebuilds them on the next start. Elsewhere (SQLite) `bulk_create`.
"""

import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
MARK = "（基准）"  # the end of every seeded project's name
INDEX_REBUILD_ABOVE = 200_000
CHUNK = 20_000
ENTERPRISES = 20_000
DAYS = 2900  # project numbers and closed notices spread over 2018-01-01 … 2025-12-09

PLACES = [
    "渝中", "江北", "南岸", "沙坪坝", "九龙坡", "大渡口", "渝北", "巴南", "北碚", "两江", "长寿", "江津", "合川",
    "永川", "南川", "綦江", "大足", "璧山", "铜梁", "潼南", "荣昌", "开州", "梁平", "武隆", "万州", "涪陵",
    "黔江", "城口", "丰都", "垫江", "忠县", "云阳", "奉节", "巫山", "巫溪", "石柱", "秀山", "酉阳", "彭水", "山城",
]  # fmt: skip
TRADE_NAMES = [
    "宏达", "鑫源", "华建", "中渝", "恒信", "金科", "龙湖", "隆鑫", "永辉", "长江", "嘉陵", "宏图", "瑞丰", "天宇",
    "同创", "兴业", "博远", "诚达", "立信", "安泰", "德润", "汇通", "君豪", "明珠", "凯旋",
]  # fmt: skip
TRADES = [
    "建设工程", "建筑工程", "市政工程", "路桥工程", "安装工程", "建工集团", "建筑劳务", "园林绿化工程", "水利水电工程",
    "装饰工程", "钢结构工程", "电力工程", "土石方工程", "消防工程", "幕墙工程", "建设", "置业", "城市建设",
    "交通建设", "环保工程",
]  # fmt: skip
ROADS = [
    "解放碑", "朝天门", "观音桥", "南坪", "杨家坪", "沙坪坝", "三峡广场", "大坪", "石桥铺", "两路口",
    "菜园坝", "鹅岭", "化龙桥", "李子坝", "红旗河沟", "龙头寺", "礼嘉", "蔡家", "西永", "大学城",
    "茶园", "鱼洞", "李家沱", "北碚", "悦来", "空港", "水土", "龙兴", "界石", "南岸",
    "九宫庙", "双碑", "歇台子", "冉家坝", "人和", "鸳鸯", "回兴", "两路", "弹子石", "海棠溪",
    "四公里", "六公里", "花溪", "陈家桥", "虎溪", "白市驿", "走马", "西彭", "跳磴", "建桥",
]  # fmt: skip
KINDS = [
    "综合楼", "住宅小区", "安置房", "小学", "中学", "医院门诊楼", "道路改造", "桥梁", "污水管网", "厂房", "商业中心",
    "体育馆", "图书馆", "社区服务中心", "停车楼", "人行天桥", "公交枢纽", "雨污分流", "老旧小区改造", "消防站",
    "物流园", "标准厂房", "幼儿园", "养老院", "文化中心", "隧道", "立交", "供水管网", "垃圾中转站", "农贸市场",
]  # fmt: skip
PHASES = ["", "", "一期", "二期", "三期", "A区", "B区", "1号地块", "2号地块", "（一标段）"]
SUFFIXES = ["工程", "工程", "工程", "项目", "建设项目", "改造工程", "新建工程", "扩建工程"]
# Share of every 100 records: the project's status (and its notice's state, where it has one).
MIX = [
    ("draft", 4),
    ("submitted", 2),
    ("returned", 1),
    ("rejected", 1),
    ("in_notice", 8),
    ("objected", 1),
    ("in_national_library", 83),
]
_BUCKETS = [status for status, share in MIX for _ in range(share)]


def status_of(i: int) -> str:
    return _BUCKETS[(i * 37 + i // 100) % 100]


def enterprise_index(i: int) -> int:
    """Skewed: the first enterprises have many records, most have a few (u² of a hash of i)."""
    u = ((i * 2654435761) % 4294967296) / 4294967296
    return int(ENTERPRISES * u * u)


def enterprise_name(n: int) -> str:
    place = PLACES[n % len(PLACES)]
    trade_name = TRADE_NAMES[(n // len(PLACES)) % len(TRADE_NAMES)]
    trade = TRADES[(n // (len(PLACES) * len(TRADE_NAMES))) % len(TRADES)]
    return f"重庆{place}{trade_name}{trade}有限公司"


def credit_code(n: int) -> str:
    from stdnum.cn import uscc

    base = f"91500103MB{n:07d}"
    return base + uscc.calc_check_digit(base)


def project_name(i: int, authority_name: str) -> str:
    road = ROADS[(i // 43) % len(ROADS)]
    kind = KINDS[(i * 7 + i // 1000) % len(KINDS)]
    phase = PHASES[(i // 7) % len(PHASES)]
    suffix = SUFFIXES[(i // 3) % len(SUFFIXES)]
    return f"{authority_name}{road}{kind}{phase}{suffix}{MARK}"


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


def setup_django(database_url: str, var_dir: str, *, read_only: bool = False):
    """Django set up on the database; migrated, with its cache table and authorities, unless `read_only` (a
    database someone else owns: measured, never written)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["VAR_DIR"] = var_dir
    for name, value in LOOPBACK_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfill_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if read_only:
        return
    from django.core.management import call_command

    restore_indexes()  # an interrupted seed left its tables without their indexes: build them before migrating
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    call_command("load_authorities", verbosity=0)


# ---------------------------------------------------------------- indexes dropped during a large seed

SEEDED_TABLES = ("projects_project", "publicity_snapshot", "publicity_notice", "publicity_libraryentry")
SAVED_INDEXES = "bench_deferred_index"


def _saved_indexes_exist(cursor) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [SAVED_INDEXES])
    return cursor.fetchone()[0] is not None


def drop_indexes():
    """Drop the seeded tables' secondary indexes (not those behind a primary key, unique or other constraint),
    keeping their definitions in SAVED_INDEXES (committed first: an interrupted run restores them)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {SAVED_INDEXES} (name text PRIMARY KEY, definition text)")
        cursor.execute(
            f"""
            INSERT INTO {SAVED_INDEXES} (name, definition)
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
            ON CONFLICT DO NOTHING
            """,
            [list(SEEDED_TABLES)],
        )
        cursor.execute(f"SELECT name FROM {SAVED_INDEXES}")
        names = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    print(f"  dropped {len(names)} secondary indexes for the load", flush=True)


SEEDING_LOCK = 17_017  # a PostgreSQL advisory lock held while a seed runs with the indexes dropped


def seeding_lock():
    """A connection of its own holding SEEDING_LOCK (the seeding processes open and close theirs)."""
    from django.db import connection

    own = connection.get_new_connection(connection.get_connection_params())
    own.autocommit = True
    own.execute("SELECT pg_advisory_lock(%s)", [SEEDING_LOCK])
    return own


def restore_indexes():
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not _saved_indexes_exist(cursor):
            return
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SEEDING_LOCK])
        if not cursor.fetchone()[0]:
            return  # a seed is running in another process: it builds them when it is done
        cursor.execute("SELECT pg_advisory_unlock(%s)", [SEEDING_LOCK])
        cursor.execute(f"SELECT name, definition FROM {SAVED_INDEXES} ORDER BY name")
        saved = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        started = time.monotonic()
        for name, definition in saved:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                cursor.execute(definition)
        cursor.execute(f"DROP TABLE {SAVED_INDEXES}")
        cursor.execute("RESET maintenance_work_mem")
    if saved:
        print(f"  built {len(saved)} indexes again in {time.monotonic() - started:.0f}s", flush=True)


# ---------------------------------------------------------------- writing rows


def next_ids(model, count: int) -> list[int]:
    """Ids for `count` new rows, drawn from the table's own sequence (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def write(model, rows: list[dict]):
    """Rows as {attname: value} of plain Python values (a dict for JSON). COPY on PostgreSQL — without building a
    model instance per row, which cost more than the database's whole work; bulk_create elsewhere. A column left
    out gets its field's default (auto_now fields: now)."""
    from django.db import connection
    from django.utils import timezone

    if not rows:
        return
    fields = model._meta.concrete_fields
    now = timezone.now()
    defaults = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
    }
    if connection.vendor != "postgresql":
        json_fields = [f.attname for f in fields if f.get_internal_type() == "JSONField"]
        for row in rows:  # JSON given as its text (for COPY) is parsed back for the ORM
            row.update(
                {name: json.loads(row[name]) for name in json_fields if isinstance(row.get(name), str)}
            )
        model.objects.bulk_create([model(**{**defaults, **row}) for row in rows], batch_size=2000)
        return
    from psycopg.types.json import Jsonb

    if "id" not in rows[0]:
        _assign_ids(model, rows, connection)
    names = [f.attname for f in fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                values = [row.get(name, defaults[name]) for name in names]
                copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in values])


# ---------------------------------------------------------------- seeding


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-seed", defaults={"is_active": False})
    return user


def seed_enterprises() -> list:
    from django.db import transaction

    from projects.models import Enterprise, EnterpriseKind

    seeded = Enterprise.objects.filter(credit_code__startswith="91500103MB")
    existing = set(seeded.values_list("credit_code", flat=True))
    codes = [credit_code(n) for n in range(ENTERPRISES)]
    new = [
        {
            "name": enterprise_name(n),
            "credit_code": code,
            "kind": EnterpriseKind.CONSTRUCTION,
            "contact_phone": f"139{n:08d}",
        }
        for n, code in enumerate(codes)
        if code not in existing
    ]
    with transaction.atomic():
        write(Enterprise, new)
    by_code = {e.credit_code: e for e in seeded.only("id", "name", "credit_code")}
    return [by_code[code] for code in codes]


def seeded_count() -> int:
    from projects.models import Project

    return Project.objects.filter(name__endswith=MARK).count()


def seed(records: int, jobs: int = 2) -> float:
    """Seed records up to `records` (those already there are kept), in chunks of CHUNK records, `jobs` processes
    at once on PostgreSQL (each chunk one transaction: an interrupted run leaves whole chunks, and the next run
    seeds exactly the records missing). Returns the seconds it took."""
    from django.db import connection

    done = seeded_count()
    if done >= records:
        if done > records:
            print(
                f"note: the database holds {done} seeded records, more than --records {records}; measuring all"
            )
        return 0.0
    started = time.monotonic()
    print(f"seeding {records - done} records ({done} already there), {jobs} processes ...", flush=True)
    global _ENTERPRISES, _USER
    _USER = bench_user()
    _ENTERPRISES = seed_enterprises()
    postgres = connection.vendor == "postgresql"
    big = postgres and records - done > INDEX_REBUILD_ABOVE
    if big:
        lock = seeding_lock()
        drop_indexes()
    chunks = [range(start, min(start + CHUNK, records)) for start in range(0, records, CHUNK)]
    if postgres and jobs > 1:
        import multiprocessing

        connection.close()  # each process opens its own
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for seeded in pool.imap_unordered(_seed_missing, chunks):
                _progress(seeded, started)
    else:
        for chunk in chunks:
            _progress(_seed_missing(chunk), started)
    if big:
        lock.close()
        restore_indexes()
    if postgres:
        with connection.cursor() as cursor:
            for table in SEEDED_TABLES + ("projects_enterprise",):
                cursor.execute(f"VACUUM ANALYZE {table}")
    assert seeded_count() >= records
    return time.monotonic() - started


_ENTERPRISES: list = []
_USER = None


def _progress(seeded: int, started: float):
    if seeded:
        print(f"  +{seeded} records, {time.monotonic() - started:6.1f}s", flush=True)


def _seed_missing(chunk: range) -> int:
    """Seed the records of `chunk` not yet in the database (by project number); returns how many."""
    from projects.models import Authority, Project

    counties = [a.division_code or "500000" for a in Authority.objects.order_by("code")]
    numbers = {project_number(i, counties): i for i in chunk}
    there = set(
        Project.objects.filter(project_number__in=list(numbers)).values_list("project_number", flat=True)
    )
    missing = [i for number, i in numbers.items() if number not in there]
    if missing:
        _seed_chunk(missing, _ENTERPRISES, _USER)
    return len(missing)


def project_number(i: int, counties: list[str]) -> str:
    """County + yyMMdd + serial: unique by construction (the day and serial alone determine i)."""
    day = datetime.date(2018, 1, 1) + datetime.timedelta(days=i % DAYS)
    return f"{counties[i % len(counties)]}{day:%y%m%d}{i // DAYS + 1:04d}"


def _seed_chunk(indexes, enterprises: list, user):
    """Project → Snapshot → Notice (→ LibraryEntry) for the records of `indexes`, in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from projects.models import Authority, Project, ProjectType, Status
    from publicity import snapshots
    from publicity.models import LibraryEnterpriseName, LibraryEntry, Notice, NoticeState, Snapshot
    from publicity.timing import notice_end

    authorities = list(Authority.objects.order_by("code"))
    types = [ProjectType.BUILDING_GENERAL, ProjectType.MUNICIPAL_GENERAL, ProjectType.SPECIALTY]
    now = timezone.now()
    first_day = datetime.date(2018, 1, 1)
    morning = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time(9)))
    stage_none = {code: None for code in snapshots.STAGE_ORDER}
    with_notice = {Status.IN_NOTICE, Status.OBJECTED, Status.IN_NATIONAL_LIBRARY}
    projects, snaps, notices, entries = [], [], [], []
    counties = [a.division_code or "500000" for a in authorities]
    for i in indexes:
        rng = random.Random(i)
        authority = authorities[i % len(authorities)]
        enterprise = enterprises[enterprise_index(i)]
        county = authority.division_code or "500000"
        day_index = i % DAYS
        status = status_of(i)
        recent = now - datetime.timedelta(seconds=rng.randrange(0, 9 * 86400))
        opened = morning + datetime.timedelta(days=day_index, minutes=rng.randrange(0, 600))
        submitted = {
            Status.DRAFT: None,
            Status.SUBMITTED: now - datetime.timedelta(seconds=rng.randrange(0, 30 * 86400)),
            Status.IN_NOTICE: recent,
            Status.OBJECTED: recent,
        }.get(status, opened)
        project = {
            "enterprise_id": enterprise.id,
            "authority_id": authority.id,
            "project_number": project_number(i, counties),
            "county_code": county,
            "name": project_name(i, authority.name),
            "address": f"重庆市{authority.name}{ROADS[(i // 43) % len(ROADS)]}{i % 300 + 1}号",
            "project_type": types[i % len(types)],
            "is_completed": True,
            "total_investment": rng.randrange(500_000, 900_000_000),
            "total_area": rng.randrange(200, 300_000),
            "status": status,
            "created_by_id": user.id,
            "submitted_at": submitted,
            "first_submitted_at": submitted,
        }
        projects.append(project)
        if status not in with_notice:
            continue
        created = recent if status != Status.IN_NATIONAL_LIBRARY else opened
        content = {
            "project_number": project["project_number"],
            "data_source": snapshots.DATA_SOURCE_BACKFILL,
            "data_level": snapshots.DATA_LEVEL_DISTRICT,
            "enterprise": {"name": enterprise.name, "credit_code": enterprise.credit_code},
            "authority": {"code": authority.code, "name": authority.name},
            "project": {
                "project_number": project["project_number"],
                "name": project["name"],
                "address": project["address"],
                "county_code": county,
                "project_type": project["project_type"],
                "is_classified": False,
                "is_completed": True,
                "start_basis": "permit",
                "total_investment": str(project["total_investment"]),
                "total_area": str(project["total_area"]),
            },
            "stages": stage_none,
        }
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        snap = {
            "project": project,
            "version": 1,
            "content": canonical,  # COPY's text format: PostgreSQL parses it as jsonb
            "content_hash": hashlib.sha256(canonical.encode()).hexdigest(),  # as Snapshot.hash_of
            "created_at": created,
            "reason": "审核通过",
        }
        snaps.append(snap)
        ends = notice_end(created, mode="calendar")
        state = {Status.IN_NOTICE: NoticeState.RUNNING, Status.OBJECTED: NoticeState.PAUSED}.get(
            status, NoticeState.CLOSED
        )
        denormalised = {
            "project": project,
            "snapshot": snap,
            "project_number": project["project_number"],
            "project_name": project["name"],
            "enterprise_name": enterprise.name,
            "authority_id": authority.id,
            "project_type": project["project_type"],
            "document_numbers": "",
        }
        notices.append(
            {
                **denormalised,
                "state": state,
                "starts_at": created,
                "ends_at": ends,
                "paused_at": now if state == NoticeState.PAUSED else None,
                "remaining_seconds": max(0, int((ends - now).total_seconds()))
                if state == NoticeState.PAUSED
                else None,
                "closed_at": ends if state == NoticeState.CLOSED else None,
            }
        )
        if state == NoticeState.CLOSED:
            entries.append(
                {
                    **denormalised,
                    "national_id": f"NP-{project['project_number']}",
                    "entered_at": ends + datetime.timedelta(hours=1),
                    "enterprise_credit_code": enterprise.credit_code,
                }
            )
    with transaction.atomic():
        _assign_ids(Project, projects, connection)
        _assign_ids(Snapshot, snaps, connection)
        for row in snaps + notices + entries:
            row["project_id"] = row.pop("project")["id"]
            if "snapshot" in row:
                row["snapshot_id"] = row.pop("snapshot")["id"]
        write(Project, projects)
        write(Snapshot, snaps)
        write(Notice, notices)
        write(LibraryEntry, entries)
        # The library's names, as publicity.services.mark_delivered notes them with each entry; sorted, so the
        # seeding processes that insert the same names wait on each other in the same order (never a deadlock).
        LibraryEnterpriseName.objects.bulk_create(
            [LibraryEnterpriseName(name=name) for name in sorted({e["enterprise_name"] for e in entries})],
            ignore_conflicts=True,
        )


def _assign_ids(model, rows, connection):
    """Rows that others point at need their ids before they are written: from the sequence on PostgreSQL;
    elsewhere (SQLite, single writer) after the table's highest id."""
    if connection.vendor == "postgresql":
        ids = next_ids(model, len(rows))
    else:
        top = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ids = range(top + 1, top + 1 + len(rows))
    for row, pk in zip(rows, ids, strict=True):
        row["id"] = pk


def real_record():
    """One record made the real way, so the detail and review pages measured render a full six-stage snapshot.
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


def continue_builders_sequence():
    """Start tests.builders' record sequence after the records of that sequence the database already holds, for a
    benchmark that makes its records with the builders on a database it keeps (a copy of the seed, whose detail
    record real_record made with sequence 0): their permit number (500103 + issue date + 2-digit serial + 01) is
    the one document number that carries no run tag, and the first record would otherwise meet it — refused by an
    import, an IntegrityError for a builder."""
    import itertools

    from projects.models import PermitStage
    from tests import builders

    last = (
        PermitStage.objects.filter(permit_number__gte="5001032016", permit_number__lt="5001032017")
        .order_by("-permit_number")
        .values_list("permit_number", flat=True)
        .first()
    )
    if last and len(last) == 18 and last.isdigit():
        issued_on = datetime.datetime.strptime(last[6:14], "%Y%m%d").date()
        used = (issued_on - datetime.date(2016, 7, 1)).days * 99 + int(last[14:16]) - 1
        builders._sequence = itertools.count(used + 1)
