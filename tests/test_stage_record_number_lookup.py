"""Issuing a stage record number PrjNum-XX-nnn (publicity.services.stage_record_numbers) finds the next serial with
a prefix match on the number: on PostgreSQL that is a range read of an index (the varchar_pattern_ops index Django
makes for the unique number), however many numbers there are; bench/stage_numbers.py shows the plan at 100,000
records. The numbers' stability across versions is pinned in tests/test_national_standard.py."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publicity import services, snapshots
from tests.builders import make_enterprise_user, make_project

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_the_next_serial_is_read_from_an_index_range_not_a_scan(authorities, open_windows):
    clerk = make_enterprise_user(username="clerk-numbers")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"])
    content = snapshots.build_content(project)

    with CaptureQueriesContext(connection) as queries:
        numbers = services.stage_record_numbers(project, content)

    assert numbers and all(number.startswith(f"{project.project_number}-") for number in numbers.values())
    lookups = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"]]
    assert len(lookups) == len(numbers)  # one lookup per number issued
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole anyway
        cursor.execute(f"EXPLAIN {lookups[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan and re.search(r"Index Cond: .*number.*(~>=~|>=) '", plan), (
        plan
    )  # a prefix range
