"""The console's long lists count their matches exactly up to review.paginator.COUNT_CAP and estimate above it
(docs/architecture.md, "At national scale"): the same queries whatever the number of records, the estimate shown
as such. The estimate is PostgreSQL's; on SQLite the count is always exact."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Project, Status
from review import paginator
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
    client, city, clerk, yuzhong, monkeypatch
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


def test_a_query_that_matches_nothing_by_construction_counts_zero(clerk, yuzhong):
    submitted(clerk, yuzhong, 2)
    # Django compiles a filter on an empty list to no SQL at all (EmptyResultSet): no estimate to ask for.
    pages = paginator.CappedCountPaginator(Project.objects.filter(pk__in=[]).order_by("id"), 5)
    assert (pages.count, pages.estimated) == (0, False)
    assert paginator.planner_rows(Project.objects.filter(pk__in=[])) == 0
