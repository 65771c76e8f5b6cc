"""The load mix: public visitors, enterprises saving stages and reviewers deciding, all at once, against gunicorn
with 2 workers, PostgreSQL and Redis (cache and broker) with a real Celery worker and beat (a script, not a test;
see bench/README.md).

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/load_mix.py [--seconds 300] [--database-url URL]

1. Database: DATABASE_URL or --database-url, default the PostgreSQL database `bench_load_mix` on 127.0.0.1 (created
   and migrated if absent, kept between runs; --fresh drops it first). The public side is seeded as
   bench/notice_pages.py seeds it (--records, COPY, kept), plus one record made the real way.
2. Actors, made once and kept: --enterprises enterprises with a clerk each and --drafts draft records each (six
   stages, evidence); --reviewers reviewers of 渝中区 with an authenticator app (a TOTP device, as after their
   enrolment); a pool of submitted records in 渝中区 (made, then submitted through projects.services), topped up
   before each run to what the run can decide (--review-pool).
3. Serves the portal with `gunicorn -w 2` (DEBUG off, persistent connections, the anonymous page cache on as in
   production), a Celery worker and beat on REDIS_URL. Every clerk and reviewer signs in through the real login
   form (a reviewer also through the second step, with the code of their app); their session and CSRF cookies and
   the page's CSRF token are what the load generator sends.
4. Load: three Debian `wrk` processes at once (C, each its own process), for --seconds, each request followed by a
   think time of 0.5-1.5 × --think-ms (0: back to back):
   - visitors: -c --visitors, GETs of varied public URLs (notices list pages, searches of 24 words × 3 pages, 60
     notice pages, the library by enterprise name, 业绩 by credit code and by name, enterprise 业绩 pages);
   - enterprises: one connection each, with its own session, POSTing the stage form of its own drafts (基本信息,
     合同备案, 竣工验收备案) with a changed value each time (the scale, the contract's signing date, the actual
     scale), as the form posts it;
   - reviewers: one connection each, with its own session, POSTing decisions on its own slice of the pool, in turn
     a return with a comment on a field (合同备案 · 合同签订日期) and an approval (the record goes into notice).
   A response counts as a success only when it is the app's own success: 200 for a page; for a stage save the
   redirect back to the same stage form (a refusal redirects to the record, invalid data answers 200 with the
   form); for a decision the redirect to the record's review page — a refused decision redirects there too, so the
   decisions and refusals the audit trail recorded during the run are counted as well, and any refusal is an error.
5. Prints per class: requests, errors, requests/s, p50 and p99 (wrk's own histogram), then verifies the audit
   chain (projects.audit.verify_chain, as `manage.py verify_audit`) and prints intact or broken.

Goal (issue: load held): no error, p99 of a stage save <= 1 s, the audit chain intact.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from notice_pages import sample_paths, start_gunicorn, stop  # noqa: E402
from seed_records import LOOPBACK_ENV, ensure_database, real_record, seed, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_load_mix"
HOST = "127.0.0.1"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
AUTHORITY = "500103"  # 渝中区: the reviewers' authority and the pool's
MARK = "（负载）"  # the end of the name of every record this bench makes
SAVED_STAGES = ("registration", "contract", "completion")
RETURN_TARGET = "contract:signed_on"
RETURN_TEXT = "合同签订日期与合同原件不一致，请核对后修改。"
# Where the app's success sends the browser (Lua patterns): a saved stage back to its form (a refusal goes to the
# record, invalid data answers 200); a decision to the record's review page (so does a refused one: the audit
# trail's refusals are counted too).
STAGE_FORM = "/projects/%d+/stages/[a-z_]+/$"
REVIEW_PAGE = "/admin/projects/project/%d+/change/$"

# One script for the three classes. A thread's file: the Cookie header ("-": none) on the first line, then one
# request a line: method, path, body. args: the data file (".<thread>" appended when it exists), the think time in ms,
# "once" (each line sent once, then the connection waits out the run: a decided record cannot be decided again) or
# "cycle", the Origin header, the status of a success and a Lua pattern its Location must match ("-": any). A
# response is checked by what it is, not by which request it answers: wrk gives response() no request.
LUA = (
    loadgen.THREADS_LUA
    + r"""
local function exists(name)
  local f = io.open(name, "r")
  if f then f:close() return true end
  return false
end
function init(args)
  local name = args[1]
  if exists(name .. "." .. id) then name = name .. "." .. id end
  lines = {}
  cookie = nil
  for line in io.lines(name) do
    if cookie == nil then
      cookie = line
    elseif #line > 0 then
      local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
      lines[#lines + 1] = {method = method, path = path, body = body}
    end
  end
  think = tonumber(args[2]) or 0
  once = args[3] == "once"
  origin = args[4]
  success = tonumber(args[5])
  location = args[6]
  index = ((id or 1) * 7919) % #lines
  if once then index = 0 end
  sent = 0
  ok, bad, exhausted = 0, 0, 0
  sample = ""
  math.randomseed(os.time() + (id or 1) * 1000)
end
function delay()
  if once and sent >= #lines then
    exhausted = 1
    return 3600000
  end
  if think <= 0 then return 0 end
  return math.random(math.floor(think * 0.5), math.floor(think * 1.5))
end
function request()
  index = index % #lines + 1
  sent = sent + 1
  local line = lines[index]
  local headers = {["Accept-Language"] = "zh-CN"}
  if cookie ~= "-" then headers["Cookie"] = cookie end
  if line.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Origin"] = origin
    return wrk.format("POST", line.path, headers, line.body)
  end
  return wrk.format(line.method, line.path, headers)
end
function response(status, headers, body)
  local where = headers["Location"] or headers["location"] or "-"
  local good = status == success
  if good and location ~= "-" then
    good = string.find(where, location) ~= nil
  end
  if good then
    ok = ok + 1
  else
    bad = bad + 1
    if #sample < 600 then
      sample = sample .. string.format("%d -> %s; ", status, where)
    end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "ok": %d, "bad": %d, ' ..
    '"exhausted": %d, "socket": %d, "sample": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), total("ok"), total("bad"),
    total("exhausted"), e.connect + e.read + e.write + e.timeout, joined("sample")))
end
"""
)


# ---------------------------------------------------------------- the actors and their records


def clerks(count: int) -> list:
    """`count` construction enterprises with one clerk each (load-ent-NN), kept between runs."""
    from django.contrib.auth import get_user_model

    from projects.models import Enterprise, EnterpriseKind
    from tests.builders import credit_code, make_enterprise_user

    users = []
    for n in range(count):
        username = f"load-ent-{n:02d}"
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            enterprise = Enterprise.objects.create(
                name=f"重庆负载测试{n:02d}建设工程有限公司",
                credit_code=credit_code(f"91500103ME{n:07d}"),
                kind=EnterpriseKind.CONSTRUCTION,
            )
            user = make_enterprise_user(enterprise=enterprise, username=username)
        users.append(user)
    return users


def reviewers(count: int) -> list:
    """`count` reviewers of 渝中区 (load-rev-N), each with a confirmed authenticator app, kept between runs."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from projects.models import Authority
    from tests.builders import make_reviewer

    authority = Authority.objects.get(code=AUTHORITY)
    users = []
    for n in range(count):
        username = f"load-rev-{n}"
        user = get_user_model().objects.filter(username=username).first() or make_reviewer(
            authority, username=username
        )
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
        users.append(user)
    return users


def next_sequence() -> int:
    """The builders' document-number sequence for this run: after every record an earlier run made (the permit
    number depends on it alone, and must stay unique in the database)."""
    from projects.models import Project

    return Project.objects.filter(name__endswith=MARK).count() + 1


def make_records(clerk, count: int, *, submitted: bool, label: str, sequence: int) -> list:
    from django.db import transaction

    from projects import services as project_services
    from projects.audit import Actor
    from projects.models import Authority
    from tests.builders import make_project, valid_stage_data

    authority = Authority.objects.get(code=AUTHORITY)
    enterprise = clerk.membership.enterprise
    made = []
    for n in range(count):
        with transaction.atomic():
            project = make_project(
                enterprise,
                clerk,
                authority,
                stage_data=valid_stage_data(enterprise, seq=sequence + n),
                name=f"渝中区负载测试{label}{sequence + n:05d}号楼工程{MARK}",
            )
            if submitted:
                project = project_services.submit_project(actor=Actor(user=clerk), project=project)
        made.append(project)
    return made


def drafts_of(clerk, wanted: int, sequence: int) -> tuple[list, int]:
    from projects.models import Project, Status

    mine = list(
        Project.objects.filter(created_by=clerk, status=Status.DRAFT, name__endswith=MARK).order_by("pk")[
            :wanted
        ]
    )
    if len(mine) < wanted:
        mine += make_records(clerk, wanted - len(mine), submitted=False, label="草稿", sequence=sequence)
        sequence += wanted
    return mine, sequence


def review_pool(clerks_: list, wanted: int, sequence: int) -> list:
    """The submitted records of 渝中区 this bench made, topped up to `wanted` (spread over the clerks)."""
    from projects.models import Project, Status

    pool = list(
        Project.objects.filter(status=Status.SUBMITTED, authority__code=AUTHORITY, name__endswith=MARK)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    missing = wanted - len(pool)
    if missing > 0:
        print(f"submitting {missing} records for the reviewers ({len(pool)} already there) ...", flush=True)
        started = time.monotonic()
        for n in range(missing):
            made = make_records(
                clerks_[n % len(clerks_)], 1, submitted=True, label="审核", sequence=sequence + n
            )
            pool.append(made[0].pk)
            if (n + 1) % 200 == 0:
                print(f"  {n + 1}/{missing}, {time.monotonic() - started:.0f}s", flush=True)
    return pool[:wanted]


# ---------------------------------------------------------------- forms, as the pages post them


# The field each saved stage changes, and its values (the contract's signing date stays between the award, 2016-04-15,
# and the permit, from 2016-07-01: always in order).
CHANGED = {
    "registration": ("scale", [f"地上{n}层，地下2层" for n in range(12, 18)]),
    "contract": (
        "signed_on",
        [
            f"2016-{month:02d}-{day:02d}"
            for month, day in ((4, 20), (4, 27), (5, 4), (5, 11), (5, 18), (5, 25))
        ],
    ),
    "completion": ("actual_scale", [f"地上{n}层，地下2层，建筑面积以竣工测绘为准" for n in range(12, 18)]),
}


def stage_bodies(project, token: str, variants: int) -> list[tuple[str, str]]:
    """(path, urlencoded body) of the stage forms of `project`, `variants` per stage, each changing one field to a
    value it does not hold now; cycled through, consecutive saves of a stage always change it (so each success is
    an audited change)."""
    from projects.forms import stage_form_class
    from projects.models import STAGE_MODELS
    from tests.builders import form_data

    per_stage = {}
    for code in SAVED_STAGES:
        stage = STAGE_MODELS[code].objects.get(project=project)
        data = form_data(stage_form_class(code, project.kind)(instance=stage))
        field, values = CHANGED[code]
        per_stage[code] = (data, field, [v for v in values if v != data.get(field)][:variants])
    bodies = []
    for variant in range(variants):
        for code, (data, field, values) in per_stage.items():
            changed = {**data, field: values[variant], "csrfmiddlewaretoken": token}
            bodies.append((f"/projects/{project.pk}/stages/{code}/", urlencode(changed)))
    return bodies


def decision_body(kind: str, token: str) -> str:
    if kind == "approve":
        return urlencode({"csrfmiddlewaretoken": token, "expected_status": "submitted", "comment": ""})
    data = {"csrfmiddlewaretoken": token, "expected_status": "submitted"}
    for i in (1, 2, 3):
        data[f"target_{i}"] = RETURN_TARGET if i == 1 else ":"
        data[f"text_{i}"] = RETURN_TEXT if i == 1 else ""
    return urlencode(data)


def decision_path(pk: int, kind: str) -> str:
    return f"/admin/projects/project/{pk}/{kind}/"


def change_path(pk: int) -> str:
    return f"/admin/projects/project/{pk}/change/"


# ---------------------------------------------------------------- signing in through the pages


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page_token(session, base: str, path: str) -> str:
    response = session.get(base + path, timeout=60)
    match = TOKEN.search(response.text)
    if response.status_code != 200 or not match:
        raise SystemExit(f"{path} answered {response.status_code} without a form: cannot take its CSRF token")
    return match[1]


def sign_in(base: str, user, password: str, totp_key: bytes | None = None):
    """A requests session signed in through /accounts/login/ (and the second step when the user has an app)."""
    import requests

    session = requests.Session()
    session.trust_env = False  # loopback, whatever http_proxy says
    token = page_token(session, base, "/accounts/login/")
    answer = session.post(
        base + "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": user.username, "password": password},
        timeout=60,
    )
    if totp_key is not None:
        from django_otp.oath import TOTP

        if "/accounts/two-factor/verify/" not in answer.url:
            raise SystemExit(f"{user.username}: the login did not ask for the second step ({answer.url})")
        token = TOKEN.search(answer.text)[1]
        answer = session.post(
            base + "/accounts/two-factor/verify/",
            data={"csrfmiddlewaretoken": token, "code": f"{TOTP(totp_key).token():06d}"},
            timeout=60,
        )
    if "sessionid" not in session.cookies or "/accounts/" in answer.url:
        raise SystemExit(f"{user.username} could not sign in: ended at {answer.url} ({answer.status_code})")
    return session


def cookie_header(session) -> str:
    return "; ".join(f"{name}={session.cookies[name]}" for name in ("sessionid", "csrftoken"))


# ---------------------------------------------------------------- the run


def write_lines(path: Path, cookie: str, lines: list[tuple]):
    with open(path, "w", encoding="utf-8") as out:
        out.write(cookie + "\n")
        for line in lines:
            out.write("\t".join(str(part) for part in line) + "\n")


def start_wrk(port, threads, connections, seconds, script, data, think_ms, mode, success, log):
    """`success`: (status, Lua pattern of the Location or "-")."""
    return subprocess.Popen(
        [
            WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s",
            "-s", str(script), f"http://{HOST}:{port}/", "--", str(data), str(think_ms), mode,
            f"http://{HOST}:{port}", str(success[0]), success[1],
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )  # fmt: skip


def wrk_figures(process, seconds: float) -> dict:
    output, _ = process.communicate(timeout=seconds + 120)  # the run, then wrk's 30 s timeout and its report
    line = next((x for x in output.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    return json.loads(line.removeprefix("WRK_JSON "))


def audit_counts(users, since, actions) -> tuple[int, int]:
    """(events of `actions`, refusals) the audit trail recorded for `users` since `since`."""
    from projects.models import AuditEvent

    events = AuditEvent.objects.filter(actor__in=users, occurred_at__gte=since)
    return (
        events.filter(action__in=actions).count(),
        events.filter(action__endswith=".refused").count(),
    )


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--enterprises", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument(
        "--think-ms", type=float, default=1000, help="mean pause after each response (0: back to back)"
    )
    parser.add_argument("--records", type=int, default=20_000, help="public records seeded (kept)")
    parser.add_argument("--drafts", type=int, default=2, help="draft records of each enterprise")
    parser.add_argument("--review-pool", type=int, default=None, help="submitted records (default: enough)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=2, help="the Celery worker's processes")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--var-dir", default="/tmp/bench_load_mix_var", help="VAR_DIR (evidence files etc.)")
    options = parser.parse_args()
    if not (1 <= options.seconds <= 3600 and options.visitors >= 1 and options.enterprises >= 1):
        parser.error("--seconds 1..3600, at least one visitor and one enterprise")
    if not 1 <= options.reviewers <= 50 or options.think_ms < 0:
        parser.error("--reviewers 1..50, --think-ms >= 0")
    return options


def main():
    options = arguments()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed (the cache and the Celery broker), e.g. redis://127.0.0.1:6379/9")
    if not Path(WRK).exists():
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    from tests.redis_process import free_port

    port = options.port or free_port()
    base = f"http://{HOST}:{port}"
    ensure_database(options.database_url, options.fresh)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    setup_django(options.database_url, options.var_dir)
    seeded = seed(options.records)
    detail_id, _name = real_record()

    from django.db import connection

    from tests.builders import open_backfill_windows

    open_backfill_windows("负载测试用时限")
    clerk_users = clerks(options.enterprises)
    reviewer_users = reviewers(options.reviewers)
    sequence = next_sequence()
    drafts = {}
    for clerk in clerk_users:
        drafts[clerk.pk], sequence = drafts_of(clerk, options.drafts, sequence)
    per_second = 1000 / max(options.think_ms, 100)  # a reviewer's decisions a second, at most
    pool_size = options.review_pool or (
        math.ceil(options.reviewers * options.seconds * per_second * 1.1) + 2 * options.reviewers
    )
    pool = review_pool(clerk_users, pool_size, sequence)
    public_paths = [path for paths in sample_paths(detail_id).values() for path in paths]
    print(
        f"database {connection.settings_dict['NAME']}: seeding took {seeded:.1f}s; {len(public_paths)} public URLs; "
        f"{options.enterprises} clerks × {options.drafts} drafts; {options.reviewers} reviewers; "
        f"{len(pool)} submitted records in the pool",
        flush=True,
    )
    connection.close()

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-mix-"))
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "VAR_DIR": options.var_dir,
        **LOOPBACK_ENV,
        "DJANGO_DEBUG": "0",
        "BENCH_BARE_VIEW": "1",  # gunicorn's readiness check (bench/notice_pages.py)
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
        "PUBLIC_PAGE_CACHE_SECONDS": os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "30"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }
    from tests.processes import CeleryStack

    stack = CeleryStack(tmp_path=workdir, env=env)
    server = None
    try:
        stack.worker(concurrency=options.concurrency)
        stack.beat()
        server = start_gunicorn(port, options.workers, env)
        figures = drive(options, base, port, workdir, clerk_users, reviewer_users, drafts, pool, public_paths)
    finally:
        if server is not None:
            stop(server)
        stack.stop_all()

    report(options, figures, clerk_users, reviewer_users, len(public_paths), len(pool), workdir)


def drive(options, base, port, workdir, clerk_users, reviewer_users, drafts, pool, public_paths):
    """Sign everyone in, check one request of each class, then the three wrk processes at once."""
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from projects.models import Project
    from tests.builders import TEST_PASSWORD

    script = workdir / "mix.lua"
    script.write_text(LUA)
    write_lines(workdir / "visitors", "-", [("GET", path, "") for path in public_paths])

    print("signing in the clerks and reviewers through the login form ...", flush=True)
    for n, clerk in enumerate(clerk_users, start=1):
        session = sign_in(base, clerk, TEST_PASSWORD)
        projects = drafts[clerk.pk]
        token = page_token(session, base, f"/projects/{projects[0].pk}/stages/{SAVED_STAGES[0]}/")
        # Five values a stage: the fifth (of the last stage) is saved first, not counted, to show the body is the
        # app's success before any load; the run cycles through the other four, each a change.
        bodies = []
        for project in projects:
            each = stage_bodies(project, token, variants=5)
            bodies += each[: -len(SAVED_STAGES)]
        first_path, first_body = each[-1]
        answer = session.post(
            base + first_path,
            data=first_body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=60,
        )
        if answer.status_code != 302 or not answer.headers.get("Location", "").endswith(first_path):
            raise SystemExit(
                f"{clerk.username}: a stage save was not saved ({answer.status_code}):\n{answer.text[:3000]}"
            )
        write_lines(
            workdir / f"enterprises.{n}",
            cookie_header(session),
            [("POST", path, body) for path, body in bodies],
        )
    slices = [pool[n :: len(reviewer_users)] for n in range(len(reviewer_users))]
    for n, (reviewer, mine) in enumerate(zip(reviewer_users, slices, strict=True), start=1):
        device = TOTPDevice.objects.get(user=reviewer, confirmed=True)
        session = sign_in(base, reviewer, TEST_PASSWORD, totp_key=device.bin_key)
        token = page_token(session, base, change_path(mine[0]))
        lines = []
        for i, pk in enumerate(mine):
            kind = "return" if i % 2 == 0 else "approve"
            lines.append(("POST", decision_path(pk, kind), decision_body(kind, token)))
        # The first two decisions first (not counted): a return and an approval the records show.
        for status_wanted, (_method, path, body) in zip(("returned", "in_notice"), lines[:2], strict=True):
            session.post(
                base + path,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                allow_redirects=False,
                timeout=60,
            )
            pk = int(path.split("/")[4])
            status = Project.objects.values_list("status", flat=True).get(pk=pk)
            if status != status_wanted:
                raise SystemExit(
                    f"{reviewer.username}: a decision on {pk} left it {status}, not {status_wanted}"
                )
        write_lines(workdir / f"reviewers.{n}", cookie_header(session), lines[2:])
    from django.db import connection

    connection.close()

    print(
        f"load for {options.seconds:g}s: {options.visitors} visitors, {len(clerk_users)} enterprises, "
        f"{len(reviewer_users)} reviewers; think time {options.think_ms:g} ms (0.5-1.5×) ...",
        flush=True,
    )
    started_at = timezone.now()
    with open(workdir / "wrk.log", "w") as log:
        processes = {
            "visitors": start_wrk(
                port, 2, options.visitors, options.seconds, script, workdir / "visitors", options.think_ms,
                "cycle", (200, "-"), log,
            ),
            "enterprises": start_wrk(
                port, len(clerk_users), len(clerk_users), options.seconds, script, workdir / "enterprises",
                options.think_ms, "cycle", (302, STAGE_FORM), log,
            ),
            "reviewers": start_wrk(
                port, len(reviewer_users), len(reviewer_users), options.seconds, script, workdir / "reviewers",
                options.think_ms, "once", (302, REVIEW_PAGE), log,
            ),
        }  # fmt: skip
        figures = {name: wrk_figures(process, options.seconds) for name, process in processes.items()}
    time.sleep(2)  # what was in flight when wrk stopped is finished (and audited) before it is counted
    figures["enterprises"]["audited"], figures["enterprises"]["refused"] = audit_counts(
        clerk_users, started_at, ["stage.update"]
    )
    figures["reviewers"]["audited"], figures["reviewers"]["refused"] = audit_counts(
        reviewer_users, started_at, ["review.approve", "review.return"]
    )
    return figures


def report(options, figures, clerk_users, reviewer_users, public_urls, pool_size, workdir):
    from projects.audit import verify_chain

    print(
        f"\n{options.seconds:g}s; gunicorn -w {options.workers} (sync), Celery worker --concurrency "
        f"{options.concurrency} + beat, PostgreSQL, Redis (cache + broker); wrk: visitors -t2 -c{options.visitors} "
        f"over {public_urls} URLs, enterprises -t{len(clerk_users)} -c{len(clerk_users)}, reviewers "
        f"-t{len(reviewer_users)} -c{len(reviewer_users)} over {pool_size} submitted records; think time "
        f"{options.think_ms:g} ms; {os.cpu_count()} CPUs shared by all of it (and other work); load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{'class':<22} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    labels = {"visitors": "public visitors", "enterprises": "stage saves", "reviewers": "review decisions"}
    total_errors = 0
    for name, f in figures.items():
        # A response that is not the app's success, a socket error or timeout, and (stage saves, decisions) a
        # refusal the audit trail recorded.
        # A success the audit trail did not record (nothing saved or decided) is an error too.
        unrecorded = max(0, f["ok"] - f["audited"]) if "audited" in f else 0
        errors = f["bad"] + f["socket"] + f.get("refused", 0) + unrecorded
        total_errors += errors
        seconds = f["duration_us"] / 1e6
        print(
            f"{labels[name]:<22} {f['requests']:>8} {errors:>6} {f['requests'] / seconds:>7.1f} "
            f"{f['p50_us'] / 1000:>8.1f} {f['p99_us'] / 1000:>8.1f}"
        )
    for name in ("enterprises", "reviewers"):
        f = figures[name]
        print(
            f"  {labels[name]}: {f['ok']} answered as a success, {f['audited']} recorded in the audit trail, "
            f"{f['refused']} refusals recorded"
            + (
                f"; {f['exhausted']} reviewers ran out of records (raise --review-pool)"
                if f["exhausted"]
                else ""
            )
        )
    for name, f in figures.items():
        if f["sample"]:
            print(f"  {labels[name]}, first errors: {f['sample'][:600]}")
    report_ = verify_chain()
    print(f"audit chain: {'intact' if report_.intact else 'broken'} ({report_.describe()})")
    print(f"logs (worker, beat, wrk) in {workdir}")
    save_p99 = figures["enterprises"]["p99_us"] / 1000
    print(
        f"goal: no error ({total_errors}), stage save p99 <= 1000 ms ({save_p99:.0f}), audit chain intact "
        f"({report_.intact}): {'met' if not total_errors and save_p99 <= 1000 and report_.intact else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
