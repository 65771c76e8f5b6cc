# ruff: noqa: F811  (fixtures imported from tests/test_public_pages.py are used as arguments)
"""A page's query compiled once per process (backfill_portal/compiled_queries.py) runs the same SQL as the ORM and
gives the same rows, read afresh each time; the public list's page through it (publicity.selectors.notice_page)."""

import pytest
from django.db import connection
from django.db.models import GenericIPAddressField, Value
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from backfill_portal import compiled_queries
from projects.models import Authority
from publicity import selectors
from tests.test_public_pages import clerk, jiangbei, quick_notice  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_kept():
    compiled_queries.forget()
    yield
    compiled_queries.forget()


def authority_rows(prefix):
    return (
        Authority.objects.filter(code__startswith=prefix)
        .order_by("code")
        .values_list("id", "code", "name", named=True)
    )


def run(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        result = function(*args, **kwargs)
    return result, [query["sql"] for query in captured.captured_queries]


def test_it_runs_the_orms_sql_and_gives_its_rows_every_time(authorities):
    expected, orm_sql = run(lambda: list(authority_rows("5001")))
    first, first_sql = run(compiled_queries.named_rows, "authorities-5001", lambda: authority_rows("5001"))
    again, again_sql = run(compiled_queries.named_rows, "authorities-5001", lambda: authority_rows("5001"))

    assert first == again == expected and len(expected) > 5
    assert first_sql == again_sql == orm_sql
    assert again[0].name == expected[0].name and type(again[0]) is type(expected[0])


def test_the_rows_are_read_afresh_only_the_sql_is_kept(authorities):
    before = compiled_queries.named_rows("authorities-5001", lambda: authority_rows("5001"))
    Authority.objects.filter(pk=before[0].id).update(name="改名后的审核部门")

    after = compiled_queries.named_rows("authorities-5001", lambda: authority_rows("5001"))

    assert after[0].name == "改名后的审核部门" and len(after) == len(before)


def test_the_kept_sql_is_not_built_again_for_its_key(authorities):
    made = []

    def make():
        made.append(1)
        return authority_rows("5001")

    for _ in range(3):
        compiled_queries.named_rows("authorities-5001", make)
    compiled_queries.named_rows("authorities-5002", lambda: authority_rows("5002"))

    assert made == [1]


def test_a_query_that_can_match_nothing_goes_through_the_orm(authorities):
    empty = Authority.objects.filter(id__in=[]).values_list("id", named=True)

    for _ in range(2):
        rows, queries = run(compiled_queries.named_rows, "nothing", lambda: empty)
        assert rows == [] and queries == []
    assert "nothing" not in compiled_queries._kept


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements of PostgreSQL")
def test_on_postgresql_a_kept_query_that_ran_the_threshold_is_prepared_with_its_values_written_in(
    authorities, settings
):
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    expected, (orm_sql,) = run(lambda: list(authority_rows("5001")))
    assert threshold and orm_sql not in prepared_statements()

    for _ in range(threshold + 1):
        rows, sql = run(compiled_queries.named_rows, "authorities-5001", lambda: authority_rows("5001"))
        assert rows == expected and sql == [orm_sql]

    # The statement as the ORM sends it, no parameter left: its plan is that of these values.
    assert orm_sql in prepared_statements() and "'5001%'" in orm_sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the binary format of PostgreSQL")
def test_a_column_whose_binary_value_is_not_djangos_is_read_in_text(authorities):
    def addresses():
        return (
            Authority.objects.filter(code__startswith="5001")
            .annotate(address=Cast(Value("10.0.0.1"), GenericIPAddressField()))
            .order_by("code")
            .values_list("id", "address", named=True)
        )

    expected = list(addresses())
    for _ in range(2):
        rows = compiled_queries.named_rows("addresses", addresses)
        assert rows == expected and rows[0].address == "10.0.0.1"  # Django's text, not an IPv4Address


def test_only_named_rows_are_taken(authorities):
    with pytest.raises(TypeError):
        compiled_queries.named_rows("instances", lambda: Authority.objects.order_by("code"))


def test_the_public_lists_page_is_the_orms_page_and_its_filters_are_its_key(
    clerk, yuzhong, jiangbei, open_windows
):
    for n in range(5):
        quick_notice(clerk, yuzhong if n % 2 else jiangbei, f"编译查询工程{n}")

    def orm_page(number, **filters):
        queryset = selectors.search(selectors.public_notices(), date_field="starts_at", **filters)
        queryset = queryset.order_by("-starts_at", "-id").values_list(
            *selectors.NOTICE_LIST_FIELDS, named=True
        )
        return selectors.page_of(queryset, number, size=2)

    def kept_page(number, **filters):
        def make():
            queryset = selectors.search(selectors.public_notices(), date_field="starts_at", **filters)
            return queryset.order_by("-starts_at", "-id").values_list(
                *selectors.NOTICE_LIST_FIELDS, named=True
            )

        return selectors.compiled_page_of(("test", tuple(sorted(filters.items()))), make, number, size=2)

    for _ in range(2):  # compiled, then kept
        for number, filters in [(1, {}), (2, {}), (3, {}), (1, {"authority_id": yuzhong.pk})]:
            expected, orm_sql = run(orm_page, number, **filters)
            page, sql = run(kept_page, number, **filters)
            assert (page.items, page.number, page.has_next) == (
                expected.items,
                expected.number,
                expected.has_next,
            )
            assert sql == orm_sql
    assert [row.project_name for row in kept_page(1, authority_id=yuzhong.pk)] == [
        "编译查询工程3",
        "编译查询工程1",
    ]
    assert kept_page(3).has_next is False and len(kept_page(3).items) == 1
    # notice_page itself: one query, the page's rows.
    page, sql = run(selectors.notice_page, 1)
    assert len(sql) == 1 and [row.project_name for row in page][:2] == ["编译查询工程4", "编译查询工程3"]
