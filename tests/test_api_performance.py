"""The public 业绩 lookup of the API (GET /api/v1/public/performance/<credit code>/), pinned byte for byte: its rows
are built straight from the database's values for speed (bench/README.md, api.py), and must stay exactly what the
DRF serializer PerformanceRecord rendered from model instances — key order, value types, the versions of a record
corrected after it entered the library, a joint venture's contract, the cursor links — in a bounded number of
queries.

The snapshots' content is written here by hand (not built from a record) so that every byte of the answer is fixed:
numbers and booleans where text is usual, empty and missing values, a stage absent or null."""

import base64
import datetime
import json
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient, APIRequestFactory

from api import public
from publicity.models import LibraryEntry, Snapshot
from tests.builders import make_enterprise_user, make_project
from tests.test_production_settings import run as run_settings

pytestmark = pytest.mark.django_db

CODE = "91500103MA5U7A1B2C"
OTHER_CODE = "91500105MA5U7A1B2D"
UTC = datetime.UTC


def _entered(project, contents, *, current, national_id, number, name, code=CODE, entered_at):
    """`project` in the library with snapshots v1… of `contents`, its entry at version `current`."""
    snapshots = [
        Snapshot.objects.create(
            project=project,
            version=version,
            content=content,
            content_hash=f"{version:064d}",
            created_at=datetime.datetime(2026, 1, version, tzinfo=UTC),
        )
        for version, content in enumerate(contents, start=1)
    ]
    return LibraryEntry.objects.create(
        project=project,
        national_id=national_id,
        national_version=current,
        snapshot=snapshots[current - 1],
        entered_at=entered_at,
        project_number=number,
        project_name=name,
        enterprise_name="重庆示范建设有限公司" if code == CODE else "重庆其他建设有限公司",
        enterprise_credit_code=code,
        authority_id=project.authority_id,
        project_type=project.project_type,
    )


def _content(**stages):
    return {
        "project": {"total_investment": "15000000.00", "total_area": 8888, "name": "不显示"},
        "enterprise": {"name": "重庆示范建设有限公司", "credit_code": CODE},
        "stages": stages,
    }


@pytest.fixture
def library(yuzhong):
    owner = make_enterprise_user(username="perf-owner")
    enterprise = owner.membership.enterprise

    def project():
        return make_project(enterprise, owner, yuzhong, stages=False, evidence=False)

    # Corrected twice: v2 entered the library, v3 (a correction still in its notice) is not yet published here.
    corrected = [
        _content(
            tendering={
                "award_amount": "9000000.00",
                "awarded_on": "2016-05-01",
                "award_notice_number": "ZB-1",
            },
            contract={"amount": "9000000.00", "filing_number": "HT-1"},
        ),
        _content(
            registration={"registration_number": "BJ-2016-0001"},
            tendering={
                "award_amount": "9100000.00",
                "awarded_on": "2016-05-01",
                "award_notice_number": "ZB-1",
            },
            contract={"amount": "9100000.00", "filing_number": "HT-1"},
            drawing_review={"certificate_number": 20160001},
            permit={"issued_on": "2016-07-01", "permit_number": "500103201607010101"},
            completion={
                "actual_cost": 9200000.5,
                "actual_area": 0,
                "actual_completion_on": "",
                "filing_number": None,
            },
        ),
        _content(contract={"amount": "1.00", "filing_number": "HT-3"}),
    ]
    _entered(
        project(),
        corrected,
        current=2,
        national_id="NP-PERF-000001",
        number="5001032016000001",
        name="渝中区示范综合楼工程（更正两次）",
        entered_at=datetime.datetime(2026, 3, 1, 2, 30, 15, 123456, tzinfo=UTC),
    )
    # A joint venture's contract (联合体): the lookup shows the contract as for any record, members not listed.
    joint_venture = _content(
        contract={
            "amount": "30000000.00",
            "filing_number": "HT-JV-1",
            "joint_venture_members": [
                {"name": "重庆示范建设有限公司", "credit_code": CODE},
                {"name": "重庆乙建设有限公司", "credit_code": OTHER_CODE},
            ],
        },
        completion=None,
        permit={"issued_on": True, "permit_number": ""},
    )
    _entered(
        project(),
        [joint_venture],
        current=1,
        national_id="NP-PERF-000002",
        number="5001032016000002",
        name="两江新区联合体住宅小区二期工程",
        entered_at=datetime.datetime(2026, 2, 1, 16, 0, tzinfo=UTC),
    )
    # The same time as the one above: the order falls back to the newest id.
    _entered(
        project(),
        [{"enterprise": {}, "project": None}],
        current=1,
        national_id="NP-PERF-000003",
        number="5001032016000003",
        name="没有环节的记录",
        entered_at=datetime.datetime(2026, 2, 1, 16, 0, tzinfo=UTC),
    )
    # Another enterprise's record: never in this lookup.
    _entered(
        project(),
        [_content(contract={"amount": "5.00"})],
        current=1,
        national_id="NP-PERF-000004",
        number="5001032016000004",
        name="他人的项目",
        code=OTHER_CODE,
        entered_at=datetime.datetime(2026, 4, 1, tzinfo=UTC),
    )


FIRST_PAGE = (
    '{"next":null,"previous":null,"results":['
    '{"national_id":"NP-PERF-000001","project_number":"5001032016000001",'
    '"project_name":"渝中区示范综合楼工程（更正两次）","enterprise_name":"重庆示范建设有限公司",'
    '"enterprise_credit_code":"91500103MA5U7A1B2C","entered_at":"2026-03-01T10:30:15.123456+08:00",'
    '"figures":[["总投资（元）","15000000.00"],["总面积（平方米）","8888"],["中标金额（元）","9100000.00"],'
    '["中标日期","2016-05-01"],["合同金额（元）","9100000.00"],["施工许可发证日期","2016-07-01"],'
    '["实际造价（元）","9200000.5"],["实际面积（平方米）","0"]],'
    '"documents":[["项目报建","BJ-2016-0001"],["项目招投标","ZB-1"],["合同备案","HT-1"],["施工图审查","20160001"],'
    '["施工许可","500103201607010101"]],"versions":[2,1]},'
    '{"national_id":"NP-PERF-000003","project_number":"5001032016000003","project_name":"没有环节的记录",'
    '"enterprise_name":"重庆示范建设有限公司","enterprise_credit_code":"91500103MA5U7A1B2C",'
    '"entered_at":"2026-02-02T00:00:00+08:00","figures":[],"documents":[],"versions":[1]},'
    '{"national_id":"NP-PERF-000002","project_number":"5001032016000002","project_name":"两江新区联合体住宅小区二期工程",'
    '"enterprise_name":"重庆示范建设有限公司","enterprise_credit_code":"91500103MA5U7A1B2C",'
    '"entered_at":"2026-02-02T00:00:00+08:00","figures":[["总投资（元）","15000000.00"],["总面积（平方米）","8888"],'
    '["合同金额（元）","30000000.00"],["施工许可发证日期","True"]],"documents":[["合同备案","HT-JV-1"]],'
    '"versions":[1]}]}'
)


def _get(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.content
    # The throttle's counter is in the cache, not the database, where the cache is Redis (as in production); the
    # database cache (no REDIS_URL) counts in its table, inside a savepoint.
    queries = [
        q for q in captured.captured_queries if "cache_table" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    return response, queries


def test_it_answers_exactly_what_the_serializer_rendered(library):
    response, queries = _get(APIClient(), reverse("api:performance", args=[CODE]))
    assert response["Content-Type"] == "application/json"
    assert response.content.decode() == FIRST_PAGE
    # One query on PostgreSQL (the versions are gathered in it), two elsewhere: whatever the page's length.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2), queries


def test_a_lower_case_credit_code_finds_the_same(library):
    response, _queries = _get(APIClient(), reverse("api:performance", args=[CODE.lower()]))
    assert response.content.decode() == FIRST_PAGE


def test_the_cursor_walks_the_pages_as_before(library):
    client = APIClient()
    first, queries = _get(client, reverse("api:performance", args=[CODE]), data={"page_size": 2})
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2), queries
    body = json.loads(first.content)
    assert [r["national_id"] for r in body["results"]] == ["NP-PERF-000001", "NP-PERF-000003"]
    assert body["previous"] is None
    assert body["next"].startswith(f"http://testserver/api/v1/public/performance/{CODE}/?cursor=")
    second, _queries = _get(client, body["next"])
    assert second.content.decode() == (
        '{"next":null,"previous":"'
        + json.loads(second.content)["previous"]
        + '","results":['
        + FIRST_PAGE.split('"versions":[1]},', 1)[1].removesuffix("]}")
        + "]}"
    )
    assert [r["national_id"] for r in json.loads(second.content)["results"]] == ["NP-PERF-000002"]


def test_an_enterprise_with_nothing_in_the_library_has_an_empty_page(library):
    response, _queries = _get(APIClient(), reverse("api:performance", args=["91500000MA5U000000"]))
    assert response.content.decode() == '{"next":null,"previous":null,"results":[]}'


def test_the_previous_link_goes_back_as_before(library):
    """The cursor's way back: the ordering reversed and the position compared the other way (EntryRows). Two
    records entered at the same time straddle the pages, so DRF's cursor, whose position is the time, comes back
    to the one before that time only, with an offset to go on: the bytes the ORM's queryset gave."""
    client = APIClient()
    first, _queries = _get(client, reverse("api:performance", args=[CODE]), data={"page_size": 2})
    second, _queries = _get(client, json.loads(first.content)["next"])
    back, queries = _get(client, json.loads(second.content)["previous"])
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2), queries
    first_record = FIRST_PAGE[
        FIRST_PAGE.index('{"national_id":"NP-PERF-000001"') : FIRST_PAGE.index(
            ',{"national_id":"NP-PERF-000003"'
        )
    ]
    assert back.content.decode() == (
        f'{{"next":"http://testserver/api/v1/public/performance/{CODE}/?cursor=bz0y&page_size=2",'
        f'"previous":null,"results":[{first_record}]}}'
    )


def test_a_cursor_whose_position_is_no_date_is_refused_as_before(library):
    cursor = base64.b64encode(b"p=garbage").decode()
    response = APIClient().get(reverse("api:performance", args=[CODE]), {"cursor": cursor})
    assert response.status_code == 400
    message = "“garbage”的值有一个错误的日期格式。它的格式应该是YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] "
    assert response.content.decode() == json.dumps(
        {
            "code": "invalid",
            "message": message,
            "field": None,
            "errors": [{"code": "invalid", "message": message, "field": None, "stage": None}],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_page_is_prepared_once_it_ran_the_threshold_and_answers_the_same(library):
    """psycopg prepares the page's statement after prepare_threshold runs on a connection (settings: 5), so it is
    planned once; every answer before and after is the same. Without a threshold nothing is prepared."""
    client = APIClient()
    url = reverse("api:performance", args=[CODE])

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
            return [row[0] for row in cursor.fetchall() if "FROM publicity_libraryentry e " in row[0]]

    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5
    answers = {client.get(url).content.decode() for _ in range(8)}
    assert answers == {FIRST_PAGE}
    assert len(prepared()) == 1, prepared()

    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets its statements too (it reads the command)
    psycopg_connection = connection.connection
    psycopg_connection.prepare_threshold = None
    try:
        answers = {client.get(url).content.decode() for _ in range(8)}
        assert prepared() == []
    finally:
        psycopg_connection.prepare_threshold = 5
    assert answers == {FIRST_PAGE}


@pytest.mark.parametrize(
    "database_url, threshold, expected",
    [
        ("postgres://backfill@db.internal:5432/backfill", None, 5),
        ("postgres://backfill@db.internal:5432/backfill", "", None),  # a pooler that cannot keep them
        ("postgres://backfill@db.internal:5432/backfill", "2", 2),
        ("sqlite:///{tmp}/db.sqlite3", "2", "absent"),  # sqlite3.connect() takes no such option
    ],
)
def test_the_prepare_threshold_is_a_setting_of_postgresql_only(database_url, threshold, expected, tmp_path):
    env = {"DATABASE_URL": database_url.format(tmp=tmp_path), "DJANGO_DEBUG": "1"}
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold', 'absent')))"
    )
    done = run_settings([sys.executable, "-c", code], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


class _AsDrfRendersIt(public.Performance):
    """The lookup with DRF's own negotiation and renderer (json.dumps): what it answered before orjson."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = DefaultContentNegotiation


def _forged(query: str) -> str:
    return "cursor=" + base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("code", [CODE, CODE.lower(), OTHER_CODE, "91500000MA5U000000", "NOT-A-CODE"])
def test_every_page_every_way_is_the_bytes_drf_rendered(library, settings, code):
    """Pages of 1, 2, the default and 100, walked forward and back through their links, forged cursors (an
    offset, the way back, a position that is no date, one without a time zone, garbage), other Accept headers and
    ?format=: status, headers and body the same as DRF's own negotiation and renderer give."""
    settings.API_PUBLIC_RATE = "100000/m"
    factory = APIRequestFactory()
    ours, drf = public.Performance.as_view(), _AsDrfRendersIt.as_view()
    path = reverse("api:performance", args=[code])
    queries = [
        "",
        "page_size=1",
        "page_size=2",
        "page_size=100",
        "page_size=0",
        "page_size=x",
        "format=json",
        "format=api",
        _forged("o=1"),
        _forged("o=1&r=1"),
        _forged("r=1&p=2026-02-01 16:00:00+00:00"),
        _forged("p=2026-02-01 16:00:00+00:00") + "&page_size=1",
        _forged("p=2026-03-01"),
        _forged("p=garbage"),
        "cursor=%%%",
        _forged("o=-1"),
    ]
    headers = [{}, {"HTTP_ACCEPT": "*/*"}, {"HTTP_ACCEPT": "application/json"}, {"HTTP_ACCEPT": "text/html"}]
    headers += [{"HTTP_ACCEPT": "application/json; indent=2"}, {"HTTP_ACCEPT_LANGUAGE": "en"}]
    seen, compared = set(), 0
    pending = [(query, header) for query in queries for header in headers]
    while pending:
        query, header = pending.pop()
        if (query, tuple(header.items())) in seen:
            continue
        seen.add((query, tuple(header.items())))
        answers = []
        for view in (ours, drf):
            response = view(factory.get(f"{path}?{query}", **header), credit_code=code)
            response.render()
            answers.append((response.status_code, sorted(response.items()), response.content))
        assert answers[0] == answers[1], (query, header)
        compared += 1
        if answers[0][0] == 200 and b'"next"' in answers[0][2]:
            body = json.loads(answers[0][2])
            pending += [(body[link].split("?", 1)[1], header) for link in ("next", "previous") if body[link]]
    assert compared >= len(queries) * len(headers)
    if code.upper() == CODE:  # its links followed too
        assert compared > len(queries) * len(headers)
