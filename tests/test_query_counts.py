"""The enterprise's pages run a fixed number of SQL queries, whatever the number of records, events, evidence
files or notifications behind them: an N+1 shows up here as a count that grows from 5 to 200."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects import audit
from projects.audit import Actor
from projects.models import Notification, Project, ProjectType, StartBasis
from tests.builders import add_evidence, make_project, make_reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(clerk, yuzhong, open_windows):
    """A complete record of the clerk's enterprise: six stages, one PDF each."""
    return make_project(clerk.membership.enterprise, clerk, yuzhong, name="查询次数示范工程")


_serial = iter(range(1, 10_000))


def add_bare_records(enterprise, user, authority, count):
    """`count` more records of `enterprise` in one INSERT: no stage, no evidence (the list does not show them)."""
    today = timezone.localdate()
    Project.objects.bulk_create(
        Project(
            enterprise=enterprise,
            authority=authority,
            county_code="500103",
            project_number=f"500103{today:%y%m%d}{9999 - next(_serial):04d}",
            name=f"批量工程{n:03d}",
            address="重庆市渝中区民族路1号",
            project_type=ProjectType.BUILDING_GENERAL,
            is_completed=True,
            start_basis=StartBasis.PERMIT,
            created_by=user,
        )
        for n in range(count)
    )


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return [query["sql"] for query in captured.captured_queries], response


def assert_same_queries(at_5, at_200):
    """The same number of queries, and the same statements: a mismatch prints the difference."""
    assert len(at_5) == len(at_200), "\n".join(sorted(set(at_200) - set(at_5)))


# ---------------------------------------------------------------- the record list


def test_the_record_list_runs_the_same_queries_with_5_and_200_records(client, clerk, yuzhong, record):
    enterprise = clerk.membership.enterprise
    client.force_login(clerk)
    add_bare_records(enterprise, clerk, yuzhong, 4)
    url = reverse("projects:project_list")

    at_5, response = count_queries(client, url)
    assert response.context["page"].paginator.count == 5
    at_5_search, _ = count_queries(client, url, {"q": "工程", "status": "draft"})

    add_bare_records(enterprise, clerk, yuzhong, 195)
    at_200, response = count_queries(client, url)
    assert response.context["page"].paginator.count == 200 and len(response.context["page"]) == 20
    at_200_search, _ = count_queries(client, url, {"q": "工程", "status": "draft"})

    assert_same_queries(at_5, at_200)
    assert_same_queries(at_5_search, at_200_search)
    # session + user + membership/enterprise, the count, the page (authority joined), the unread count
    assert len(at_200) <= 7, at_200


# ---------------------------------------------------------------- one record's pages


def test_the_self_check_and_detail_pages_run_the_same_queries_with_5_and_200_records(
    client, clerk, yuzhong, record
):
    """The enterprise's other records, and the evidence files of this one, do not add a query."""
    enterprise = clerk.membership.enterprise
    client.force_login(clerk)
    add_bare_records(enterprise, clerk, yuzhong, 4)
    check, detail = (
        reverse("projects:self_check", args=[record.pk]),
        reverse("projects:project_detail", args=[record.pk]),
    )

    check_5, response = count_queries(client, check)
    assert response.context["summary"]["errors"] == 0
    detail_5, _ = count_queries(client, detail)

    add_bare_records(enterprise, clerk, yuzhong, 195)
    for code in ("registration", "permit", "completion"):
        for _ in range(10):
            add_evidence(record, code, clerk)
    check_200, response = count_queries(client, check)
    assert response.context["summary"]["errors"] == 0
    detail_200, response = count_queries(client, detail)
    assert sum(len(row["evidence"]) for row in response.context["rows"]) == 36

    assert_same_queries(check_5, check_200)
    assert_same_queries(detail_5, detail_200)
    assert len(check_200) <= 16, check_200


# ---------------------------------------------------------------- history and inbox


def record_events(record, actors, count):
    for n in range(count):
        actor = actors[n % len(actors)]
        audit.record(
            actor,
            "stage.update",
            record.registration,
            project=record,
            changes={"scale": [f"第{n}版", f"第{n + 1}版"], "registered_on": ["2016-03-01", "2016-03-02"]},
            message="项目报建",
        )


def test_the_history_page_runs_the_same_queries_with_5_and_200_events(client, clerk, yuzhong, record):
    actors = [Actor(clerk, "192.0.2.1"), Actor(make_reviewer(yuzhong, username="reviewer-q"), "192.0.2.2")]
    client.force_login(clerk)
    url = reverse("projects:project_history", args=[record.pk])
    record_events(record, actors, 5)

    at_5, response = count_queries(client, url)
    assert len(response.context["events"]) == 5

    record_events(record, actors, 195)
    at_200, response = count_queries(client, url)
    assert len(response.context["events"]) == 200

    assert_same_queries(at_5, at_200)


def test_the_inbox_runs_the_same_queries_with_5_and_200_notifications(client, clerk, yuzhong, record):
    other = make_project(clerk.membership.enterprise, clerk, yuzhong, stages=False, evidence=False)

    def notify(count):
        Notification.objects.bulk_create(
            Notification(recipient=clerk, project=(record, other, None)[n % 3], title=f"通知{n}", body="内容")
            for n in range(count)
        )

    client.force_login(clerk)
    notify(5)
    at_5, response = count_queries(client, reverse("projects:inbox"))
    assert len(response.context["page"]) == 5

    notify(195)
    at_200, response = count_queries(client, reverse("projects:inbox"))
    assert len(response.context["page"]) == 20
    assert record.project_number in response.content.decode()  # the rows link their records

    assert_same_queries(at_5, at_200)


# ---------------------------------------------------------------- a stage's form


def test_the_stage_page_runs_the_same_queries_with_1_and_11_evidence_files(client, clerk, yuzhong, record):
    client.force_login(clerk)
    url = reverse("projects:stage_edit", kwargs={"pk": record.pk, "stage_code": "permit"})
    at_1, response = count_queries(client, url)

    for _ in range(10):
        add_evidence(record, "permit", clerk)
    at_11, response = count_queries(client, url)

    assert response.content.decode().count(f"/projects/{record.pk}/evidence/") >= 11
    assert_same_queries(at_1, at_11)
