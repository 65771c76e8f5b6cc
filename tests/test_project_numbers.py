"""Project numbers (docs/rules.md: 6-digit county code + yyMMdd + 4-digit serial): the next serial of a county's day,
whatever other counties and days hold, and a refusal once the day's 9,999 are issued."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import Project
from projects.services import RuleViolation

from .builders import make_project

DAY = datetime.date(2026, 12, 3)


@pytest.fixture
def numbered(clerk, yuzhong):
    """Projects holding the given numbers (the builder issues one, then the row is given the number wanted)."""

    def make(*numbers):
        for number in numbers:
            project = make_project(clerk.membership.enterprise, clerk, yuzhong, stages=False, evidence=False)
            Project.objects.filter(pk=project.pk).update(project_number=number)

    return make


def test_the_first_number_of_a_county_day_is_serial_one(db):
    assert services.issue_project_number("500103", DAY) == "5001032612030001"


def test_the_next_serial_follows_the_days_last_whatever_other_counties_and_days_hold(numbered):
    numbered(
        "5001032612030007",
        "5001032612030041",
        "5001032612040999",  # the next day
        "5001032612029998",  # the day before
        "5001042612039000",  # another county
    )
    assert services.issue_project_number("500103", DAY) == "5001032612030042"
    assert services.issue_project_number("500104", DAY) == "5001042612039001"
    assert services.issue_project_number("500103", DAY + datetime.timedelta(days=2)) == "5001032612050001"


def test_a_county_day_with_all_its_serials_issued_is_refused(numbered):
    numbered("5001032612039999")
    with pytest.raises(RuleViolation) as refused:
        services.issue_project_number("500103", DAY)
    assert "该区县当日项目编号已用完" in str(refused.value.findings[0].message)


def test_the_last_number_is_found_by_a_range_of_the_unique_index_not_a_like(numbered):
    numbered("5001032612030003")
    with CaptureQueriesContext(connection) as captured:
        services.issue_project_number("500103", DAY)
    (query,) = captured.captured_queries
    assert "LIKE" not in query["sql"].upper()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index" in plan and "Backward" in plan, plan
