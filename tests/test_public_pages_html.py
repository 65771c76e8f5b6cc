# ruff: noqa: F811  (fixtures imported from tests/test_public_pages.py are used as arguments)
"""The public pages byte for byte as they were rendered before their Python work was cut (bench/README.md): the
notice list (first page, a later one, a search with every filter and the pager keeping it, refused dates, nothing
found), a notice page running and paused, the library's list and a search in it, for a small dataset with names that
need escaping. What moves with the clock or the database's sequences (dates, days left, ids, hashes, the CSRF token,
the numbers' day) is replaced by a placeholder before comparing; everything else, every tag, attribute, link and
Chinese word, is compared as it is to tests/pages/*.html.

After a deliberate change of a page: `UPDATE_PUBLIC_PAGES=1 pytest tests/test_public_pages_html.py` rewrites the
files, and the diff is reviewed like code."""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from projects.audit import Actor
from projects.models import Project, ProjectType, Status
from publicity import services
from publicity.models import LibraryEntry, Snapshot
from publicity.snapshots import PROJECT_FIELDS, public_sections
from tests import builders
from tests.builders import make_project
from tests.test_public_pages import (  # noqa: F401  (fixtures)
    OBJECTOR_CONTACT,
    clerk,
    close_and_enter,
    jiangbei,
)

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).parent / "pages"
HOSTILE = "渝中区<b>“观音桥”</b> & 'A' \"B\" 商住楼"

PLACEHOLDERS = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value="TOKEN"'),
    (re.compile(r"\b[0-9a-f]{64}\b"), "HASH"),
    (re.compile(r"/notices/\d+/"), "/notices/ID/"),
    (re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?"), "DATE"),
    (re.compile(r"剩余\d+天"), "剩余N天"),
    (re.compile(r"\b(\d{6})\d{6}(\d{4})\b"), r"\1YYMMDD\2"),  # project numbers: county, day, serial
    # The builders' numbers and codes count on from one test to the next in a process: the documents' and the
    # enterprises' (18 characters: credit codes, permit numbers).
    (re.compile(builders._run + r"\d{5}"), "DOCUMENT"),
    (re.compile(r"\b[0-9A-Z]{18}\b"), "CODE18"),
]


def normalised(html: str) -> str:
    for pattern, placeholder in PLACEHOLDERS:
        html = pattern.sub(placeholder, html)
    return html


def notice(clerk, authority, name, project_type=ProjectType.BUILDING_GENERAL):
    project = make_project(
        clerk.membership.enterprise,
        clerk,
        authority,
        name=name,
        project_type=project_type,
        status=Status.IN_NOTICE,
        evidence=False,
    )
    return services.start_notice(actor=Actor(user=clerk), project=project, reason="审核通过")


@pytest.fixture
def dataset(clerk, yuzhong, jiangbei, open_windows, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    notices = [
        notice(
            clerk,
            yuzhong if n % 3 else jiangbei,
            f"页面对照工程{n:02d}",
            ProjectType.MUNICIPAL_GENERAL if n % 4 == 0 else ProjectType.BUILDING_GENERAL,
        )
        for n in range(23)
    ]
    hostile = notice(clerk, yuzhong, HOSTILE)
    paused = notices[20]
    services.file_objection(notice_id=paused.pk, name="王某", contact=OBJECTOR_CONTACT, reason="不实")
    close_and_enter(notices[0], "NP-500105-0001")
    close_and_enter(notices[1], "NP-500103-0002")
    return {"running": hostile, "paused": paused}


def header_value(name: str, value: str) -> str:
    if name.lower() == "content-length":
        return "LENGTH"  # the ids' digits move it; the page itself is compared
    if name.lower() == "set-cookie":
        return re.sub(r"=[^;]+;", "=VALUE;", value)
    if name.lower().startswith("content-security-policy"):
        return "; ".join(sorted(value.split("; ")))  # django-csp's order of directives is a set's
    return value


def as_text(response) -> str:
    """The status, the headers (a cookie's value aside) and the page, with the placeholders."""
    headers = [f"{name}: {header_value(name, value)}" for name, value in sorted(response.headers.items())]
    headers += [f"cookie {name}" for name in sorted(response.cookies)]
    return normalised("\n".join([f"status {response.status_code}", *headers, "", response.content.decode()]))


def assert_rendered_as_before(client, pages: dict[str, str], tmp_path):
    """Each of `pages` (its file's name: its URL) as tests/pages/ keeps it; the ones that differ written to tmp_path."""
    update = os.environ.get("UPDATE_PUBLIC_PAGES") == "1"
    differing = []
    for name, url in pages.items():
        cache.clear()
        html = as_text(client.get(url))
        path = PAGES / f"{name}.html"
        if update:
            PAGES.mkdir(exist_ok=True)
            path.write_text(html, encoding="utf-8")
        elif html != path.read_text(encoding="utf-8"):
            differing.append(name)
            (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    assert differing == [], f"rendered differently (written to {tmp_path}): {differing}"


def test_the_public_pages_are_rendered_as_before(client, dataset, tmp_path):
    pages = {
        "notice_list": reverse("publicity:notice_list"),
        "notice_list_page_2": reverse("publicity:notice_list") + "?page=2",
        "notice_list_search": reverse("publicity:notice_list")
        + "?q=页面对照&authority=500103&project_type=building_general&date_from=2020-01-01&date_to=2099-12-31",
        "notice_list_search_page_2": reverse("publicity:notice_list") + "?q=页面对照&page=2",
        "notice_list_hostile": reverse("publicity:notice_list") + "?q=<b>“观音桥”</b>",
        "notice_list_refused": reverse("publicity:notice_list") + "?date_from=2026-02-01&date_to=2026-01-01",
        "notice_list_unknown_choice": reverse("publicity:notice_list") + "?authority=999999&q=%22%3E",
        "notice_list_nothing": reverse("publicity:notice_list") + "?q=不存在的工程名称",
        "notice_running": reverse("publicity:notice_detail", args=[dataset["running"].pk]),
        "notice_paused": reverse("publicity:notice_detail", args=[dataset["paused"].pk]),
        "library_list": reverse("publicity:library_list"),
        "library_search": reverse("publicity:library_list") + "?q=页面对照&authority=500105",
    }
    assert_rendered_as_before(client, pages, tmp_path)


def test_a_snapshots_fields_are_listed_in_the_order_they_were_written_whatever_order_the_database_keeps():
    """PostgreSQL's jsonb gives a snapshot's keys back shortest first: the page lists them as the record's form does."""
    project = {name: "" for name in sorted(PROJECT_FIELDS, key=lambda name: (len(name), name))}
    content = {
        "enterprise": {"name": "甲"},
        "authority": {"name": "渝中区"},
        "project": project,
        "stages": {},
    }
    labels = [label for label, _value in public_sections(content)[0]["rows"]][2:]
    assert labels == [Project._meta.get_field(name).verbose_name for name in PROJECT_FIELDS]


@pytest.fixture
def performance_dataset(dataset, clerk, yuzhong):
    """The dataset's two entered records, one of them corrected (its entry on version 2, a version 3 not yet
    entered), and 21 more of the same enterprise entered the short way, one with a name that needs escaping: the
    enterprise's page has a second page."""
    enterprise = clerk.membership.enterprise
    corrected = LibraryEntry.objects.select_related("snapshot").get(national_id="NP-500105-0001")
    content = {**corrected.snapshot.content, "project": {**corrected.snapshot.content["project"]}}
    content["project"]["total_investment"] = "16000000.00"
    second = Snapshot.objects.create(project=corrected.project, version=2, content=content, reason="更正")
    Snapshot.objects.create(project=corrected.project, version=3, content=content, reason="再次更正")
    LibraryEntry.objects.filter(pk=corrected.pk).update(snapshot=second, updated_at=timezone.now())
    for n in range(21):
        name = HOSTILE if n == 7 else f"业绩对照工程{n:02d}"
        project = make_project(enterprise, clerk, yuzhong, name=name, evidence=False)
        builders.enter_library(
            project,
            national_id=f"NP-500103-{n + 100:04d}",
            entered_at=timezone.now() - datetime.timedelta(days=n + 1),
        )
    return enterprise


def test_the_performance_pages_are_rendered_as_before(client, performance_dataset, tmp_path):
    """The 业绩 lookup and an enterprise's page, as the library's pages above."""
    enterprise = performance_dataset
    lookup = reverse("publicity:performance_lookup")
    page = reverse("publicity:performance_enterprise", args=[enterprise.credit_code])
    pages = {
        "performance_enterprise": page,
        "performance_enterprise_page_2": page + "?page=2",
        "performance_enterprise_page_3": page + "?page=3",
        "performance_lookup": lookup,
        "performance_lookup_code": lookup + f"?q={enterprise.credit_code}",
        "performance_lookup_name": lookup + f"?q={enterprise.name}",
        "performance_lookup_part_page_2": lookup + "?q=渝州建工&page=2",
        "performance_lookup_nothing": lookup + "?q=<b>不存在的企业</b>",
    }
    assert_rendered_as_before(client, pages, tmp_path)


def test_the_library_searches_are_rendered_as_before(client, performance_dataset, tmp_path):
    """The library's list searched by a whole enterprise name, by a credit code (found nowhere: the list searches
    names and numbers), by part of a name (its second page), by a project number and for nothing, as the library's
    pages above."""
    enterprise = performance_dataset
    number = LibraryEntry.objects.get(national_id="NP-500103-0107").project_number
    library = reverse("publicity:library_list")
    pages = {
        "library_search_name": library + f"?q={enterprise.name}",
        "library_search_code": library + f"?q={enterprise.credit_code}",
        "library_search_part_page_2": library + "?q=渝州建工&page=2",
        "library_search_number": library + f"?q={number}",
        "library_search_nothing": library + "?q=<b>不存在的企业</b>",
    }
    assert_rendered_as_before(client, pages, tmp_path)
