"""A paginator for the console's long lists that never counts a million rows (docs/architecture.md, "At national scale").

Django's admin asks its paginator for the exact number of matches on every page, and `COUNT(*)` reads every
matching row: at a million records the city's unfiltered list spent more on the count than on the page. As large
Django admins do, the count is exact up to COUNT_CAP (counted over `LIMIT COUNT_CAP + 1`, so it reads at most that
many rows) and above it the page says what it knows, honestly:

- "约 N 补录项目（估计数）" when PostgreSQL's own estimate of the matches (the planner's row estimate, from the
  table's statistics) is above COUNT_CAP;
- "超过 1000 补录项目" when it is not: the planner expected fewer rows than were just counted, so its figure is
  no estimate worth showing (`beyond_cap`).

The pager's last page is where an estimate would mislead (a page past the true end, or true pages past the
estimated one): on the page the estimate puts last, and on any page after it, the count is exact (`COUNT(*)`
instead of the capped count: that page's own OFFSET reads about as many rows anyway), and a page number past the
true end shows the true last page (`CappedChangeList`), and so does a page found empty before the estimated end
(statistics older than the data: one more query, the exact count, in that case only).

Two queries on PostgreSQL whatever the size or the page (the plan, then the capped or the exact count), one
elsewhere (SQLite: development and tests, small data, counted exactly).
"""

import json
from functools import cached_property

from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections

COUNT_CAP = 1_000


class CappedCountPaginator(Paginator):
    estimated = False  # True when `count` is the planner's estimate (more than COUNT_CAP matches)
    beyond_cap = False  # True when more than COUNT_CAP matched and the planner expected no more: "超过 …"
    cap = COUNT_CAP  # the cap the count was held to ("超过 {cap}")
    page_wanted = 1  # the page the request asks for (ProjectReviewAdmin.get_paginator): exact near the end

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        estimate = planner_rows(queryset)
        if self.page_wanted > 1 and self.page_wanted * self.per_page >= estimate:
            return super().count  # the estimated last page or past it: the pager must be right here
        capped = queryset.order_by()[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            return capped
        if estimate > COUNT_CAP:
            self.estimated = True
            return estimate
        self.beyond_cap, self.cap = True, COUNT_CAP
        return COUNT_CAP + 1

    def count_exactly(self):
        """Replace the estimate or the capped count by the exact count (and the pages it makes)."""
        self.__dict__["count"] = self.object_list.count()
        self.__dict__.pop("num_pages", None)
        self.__dict__.pop("page_range", None)
        self.estimated = self.beyond_cap = False

    def page(self, number):
        # A page number past the true end (the estimate put the last page further than it is): the last page.
        try:
            number = min(int(number), max(self.num_pages, 1))
        except (TypeError, ValueError):
            pass  # Paginator.page says it is no page number
        return super().page(number)


class CappedChangeList(ChangeList):
    """The admin's changelist for a CappedCountPaginator: the pager marks the page shown, the true last one when
    the request asked for a page past it."""

    def get_results(self, request):
        super().get_results(request)
        pages = self.paginator
        if self.page_num > 1 and (pages.estimated or pages.beyond_cap) and not self.result_list:
            # The estimate put more pages than there are, and this one is past the true end (statistics older than
            # the data): count exactly and show the true last page rather than an empty one under the estimate.
            pages.count_exactly()
            self.result_count = pages.count
            self.multi_page = self.result_count > self.list_per_page
            self.can_show_all = self.result_count <= self.list_max_show_all
            self.page_num = max(pages.num_pages, 1)
            self.result_list = pages.page(self.page_num).object_list
        self.page_num = min(self.page_num, max(pages.num_pages, 1))


def page_wanted(request) -> int:
    """The page number the admin's changelist reads from the request (ChangeList: 1 when it is no number)."""
    try:
        return int(request.GET.get(PAGE_VAR, 1))
    except ValueError:
        return 1


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
