"""A paginator for the console's long lists that never counts a million rows (docs/architecture.md, "At national scale").

Django's admin asks its paginator for the exact number of matches on every page, and `COUNT(*)` reads every
matching row: at a million records the city's unfiltered list spent more on the count than on the page. As large
Django admins do, the count is exact up to COUNT_CAP (counted over `LIMIT COUNT_CAP + 1`, so it reads at most that
many rows) and above it is PostgreSQL's own estimate of the matches (the planner's row estimate, from the table's
statistics), shown as "约 …". On other databases (SQLite: development and tests, small data) the count is exact.

Two queries on PostgreSQL whatever the size (the capped count and the plan), one elsewhere.
"""

import json
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    estimated = False  # True when `count` is the planner's estimate (more than COUNT_CAP matches)

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        capped = queryset.order_by()[: COUNT_CAP + 1].count()
        estimate = planner_rows(queryset)
        if capped <= COUNT_CAP:
            return capped
        self.estimated = True
        return max(estimate, COUNT_CAP + 1)


def planner_rows(queryset) -> int:
    """The number of rows PostgreSQL expects the query to return (EXPLAIN, not run); 0 for a query Django knows
    matches nothing (a filter on a value no row can hold compiles to no SQL at all)."""
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
