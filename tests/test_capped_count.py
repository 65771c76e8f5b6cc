"""The console's long lists count their matches exactly up to review.paginator.COUNT_CAP and estimate above it
(docs/architecture.md, "At national scale"): the same queries whatever the number of records or the page, the
estimate shown as such ("约 … （估计数）", or "超过 …" where the planner's figure is no better than what was
counted), the count exact on the page the estimate puts last. The estimate is PostgreSQL's; on SQLite the count is
always exact."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import F
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Project, Status
from review import paginator
from review.admin import ProjectReviewAdmin
from tests.builders import make_project
from tests.needs import needs_service

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:projects_project_changelist")
on_postgresql = needs_service(
    connection.vendor == "postgresql", reason="the estimate is PostgreSQL's planner's"
)


def submitted(clerk, authority, count):
    for _ in range(count):
        make_project(
            clerk.membership.enterprise,
            clerk,
            authority,
            status=Status.SUBMITTED,
            stages=False,
            evidence=False,
        )


def test_a_count_under_the_cap_is_exact(clerk, yuzhong):
    submitted(clerk, yuzhong, 7)
    pages = paginator.CappedCountPaginator(Project.objects.order_by("id"), 5)
    assert (pages.count, pages.num_pages, pages.estimated) == (7, 2, False)
    assert len(pages.page(2).object_list) == 2


@on_postgresql
def test_above_the_cap_the_count_is_the_planners_estimate_and_says_so(
    client, city, reviewer, clerk, yuzhong, monkeypatch
):
    submitted(clerk, yuzhong, 12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    client.force_login(city)

    def page():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST)
        assert response.status_code == 200
        return response, len(queries)

    exact, exact_queries = page()
    assert exact.context["cl"].result_count == 12
    assert "估计数" not in exact.content.decode()

    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    estimated, estimated_queries = page()
    changelist = estimated.context["cl"]
    assert changelist.paginator.estimated
    assert changelist.result_count > 5  # the planner's figure, never below what was counted
    assert len(changelist.result_list) == 12  # the page itself is read as before
    assert f"约 {changelist.result_count} 补录项目（估计数）" in estimated.content.decode()
    assert estimated_queries == exact_queries

    # A reviewer's page has the action bar: its "select all" names the figure as an estimate, not as a count.
    client.force_login(reviewer)
    as_reviewer, _ = page()
    figure = as_reviewer.context["cl"].result_count
    content = as_reviewer.content.decode()
    assert f"选中全部页面的补录项目（约 {figure} 个，估计数）" in content
    assert f"所有的 {figure} 个" not in content


def test_a_query_that_matches_nothing_by_construction_counts_zero(clerk, yuzhong):
    submitted(clerk, yuzhong, 2)
    # Django compiles a filter on an empty list to no SQL at all (EmptyResultSet): no estimate to ask for.
    pages = paginator.CappedCountPaginator(Project.objects.filter(pk__in=[]).order_by("id"), 5)
    assert (pages.count, pages.estimated) == (0, False)
    assert paginator.planner_rows(Project.objects.filter(pk__in=[])) == 0


def test_the_cap_is_a_thousand():
    # 10,000 before: at a million records the capped count of a reviewer's list read 10,001 rows a page, the
    # slowest query of its page (bench/README.md, "console_list.py").
    assert paginator.COUNT_CAP == 1_000


@on_postgresql
def test_more_than_the_cap_with_a_lower_estimate_says_more_than_the_cap(clerk, yuzhong, monkeypatch):
    submitted(clerk, yuzhong, 12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    # A comparison of two columns: the planner guesses a third of the rows (4 of 12), fewer than were counted.
    later = Project.objects.filter(submitted_at__gt=F("created_at")).order_by("id")
    assert later.count() == 12
    assert paginator.planner_rows(later) <= 5
    pages = paginator.CappedCountPaginator(later, 5)
    assert (pages.count, pages.estimated, pages.beyond_cap, pages.cap) == (6, False, True, 5)

    html = render_to_string(
        "admin/projects/project/pagination.html",
        {"cl": SimpleNamespace(paginator=pages, result_count=pages.count, opts=Project._meta)},
    )
    assert "超过 5 补录项目" in html
    assert "估计数" not in html and "6" not in html  # no invented figure


@on_postgresql
def test_the_last_page_is_counted_exactly_in_as_many_queries(client, city, clerk, yuzhong, monkeypatch):
    submitted(clerk, yuzhong, 12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    monkeypatch.setattr(ProjectReviewAdmin, "list_per_page", 2)
    client.force_login(city)

    def page(number):
        client.get(CHANGELIST, {"p": number})  # the first request of a session reads a few things once
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST, {"p": number})
        assert response.status_code == 200
        return response.context["cl"], response.content.decode(), len(queries)

    middle, middle_html, middle_queries = page(2)
    assert middle.paginator.estimated and "（估计数）" in middle_html

    estimated_last = middle.paginator.num_pages
    last, last_html, last_queries = page(estimated_last)
    assert not last.paginator.estimated
    assert (last.result_count, last.paginator.num_pages) == (12, 6)
    assert "12 补录项目" in last_html and "估计数" not in last_html
    assert last_queries == middle_queries

    # Past the true end (an estimate above the true count puts the last page there): the true last page.
    past, _, past_queries = page(9)
    assert (past.page_num, len(past.result_list), past.result_count) == (6, 2, 12)
    assert past_queries == middle_queries


@on_postgresql
def test_a_page_past_the_true_end_but_before_the_estimated_one_shows_the_true_last_page(
    client, city, clerk, yuzhong, monkeypatch
):
    # The statistics are older than the data: the planner still counts 12 matches where 6 are left, so its last
    # page is the 6th and the true one the 3rd. A page in between is not shown empty under the estimate.
    submitted(clerk, yuzhong, 12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    withdrawn = Project.objects.order_by("pk").values_list("pk", flat=True)[:6]
    Project.objects.filter(pk__in=list(withdrawn)).update(status=Status.DRAFT)  # no ANALYZE after
    monkeypatch.setattr(paginator, "COUNT_CAP", 5)
    monkeypatch.setattr(ProjectReviewAdmin, "list_per_page", 2)
    client.force_login(city)

    response = client.get(CHANGELIST, {"p": 4})

    changelist = response.context["cl"]
    assert response.status_code == 200
    assert (changelist.page_num, len(changelist.result_list), changelist.result_count) == (3, 2, 6)
    assert not changelist.paginator.estimated and changelist.paginator.num_pages == 3
    assert "6 补录项目" in response.content.decode() and "估计数" not in response.content.decode()
