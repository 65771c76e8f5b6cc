"""The pages of the public search (the notice list and the library): what a word finds, page by page, pinned for the
tricky words — common, rare, a document number alone, a project number, punctuation, a credit-code-shaped word, two
characters, two words. On PostgreSQL a page asks the names' matches and the document numbers' apart (a UNION, so
that the names' walk stays on the covering indexes of publicity 0010 and 0011): the rows and their order must be
exactly those of the one OR that search() asks, which the API and the printable list still use."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publicity import performance, selectors
from publicity.models import LibraryEntry, Notice
from publicity.timing import BEIJING
from tests.builders import EnterpriseFactory, make_enterprise_user
from tests.needs import needs_service
from tests.test_public_pages import close_and_enter, quick_notice

pytestmark = pytest.mark.django_db

ROWS = 45  # more than two pages of 20
CREDIT_CODE_LIKE = "91500103MA5U7X0R2K"
DOCUMENT = "渝建施〔2026〕7号"
START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=BEIJING)


def design(i: int) -> dict:
    """Row i's names and document numbers: 观音桥 is in some project names (i % 3 == 0), some enterprise names
    (i % 5 == 1) and, alone, some rows' document numbers (i % 7 == 2); rows start three by three at the same minute,
    so the id decides between them."""
    return {
        "project_name": f"渝中区测试{i:02d}" + ("观音桥" if i % 3 == 0 else "") + "工程",
        "enterprise_name": "重庆观音桥建设有限公司" if i % 5 == 1 else "重庆渝州建工集团有限公司",
        "document_numbers": " ".join(
            (["观音桥"] if i % 7 == 2 else [])
            + ([DOCUMENT] if i % 4 == 3 else [])
            + ([CREDIT_CODE_LIKE] if i == 10 else [])
            + ["渝建施〔2026〕100%_号"]
        ),
    }


def starts(i: int) -> datetime.datetime:
    return START + datetime.timedelta(minutes=i // 3)


@pytest.fixture
def notices(clerk, yuzhong):
    built = []
    for i in range(ROWS):
        notice = quick_notice(clerk, yuzhong, f"临时{i:02d}")
        Notice.objects.filter(pk=notice.pk).update(starts_at=starts(i), **design(i))
        built.append(notice.pk)
    return built


def newest_first(ids: list[int], indexes) -> list[int]:
    return [ids[i] for i in sorted(indexes, key=lambda i: (starts(i), ids[i]), reverse=True)]


def all_pages(page_function, **filters) -> list[list[int]]:
    pages, number = [], 1
    while True:
        page = page_function(number, **filters)
        pages.append([row.id for row in page.items])
        if not page.has_next:
            return pages
        number += 1


def one_or(queryset, date_field, **filters) -> list[int]:
    """What search() finds, newest first: the reference the pages must cut in twenties."""
    found = selectors.search(queryset, date_field=date_field, **filters)
    return list(found.order_by(f"-{date_field}", "-id").values_list("id", flat=True))


def in_twenties(ids: list[int]) -> list[list[int]]:
    return [ids[n : n + 20] for n in range(0, len(ids), 20)] or [[]]


WORDS = [
    "观音桥",  # names and document numbers
    "工程",  # every row; two characters
    "测试1",  # rows 10–19
    "测试07",  # one row
    DOCUMENT,  # document numbers only, a whole token with brackets
    "〔2026〕7号",  # a fragment of a document number: nothing
    CREDIT_CODE_LIKE,  # a credit code's shape, in one row's document numbers
    "100%_号",  # LIKE's wildcards, as text
    "%_",
    "观音 桥",  # two words: the names only
    "不存在的词语",
]


def test_each_page_of_a_notice_search_is_the_whole_searchs_next_twenty(notices):
    for word in WORDS:
        reference = one_or(selectors.public_notices(), "starts_at", q=word)
        assert all_pages(selectors.notice_page, q=word) == in_twenties(reference), word


def test_the_search_finds_what_each_word_says_newest_first(notices):
    def found(word):
        return sum(all_pages(selectors.notice_page, q=word), [])

    guanyinqiao = [i for i in range(ROWS) if i % 3 == 0 or i % 5 == 1 or i % 7 == 2]
    assert found("观音桥") == newest_first(notices, guanyinqiao)
    assert len(found("观音桥")) == 25
    assert found("工程") == newest_first(notices, range(ROWS))
    assert found(DOCUMENT) == newest_first(notices, [i for i in range(ROWS) if i % 4 == 3])
    assert found(CREDIT_CODE_LIKE) == [notices[10]]
    assert found("测试07") == [notices[7]]
    assert found("100%_号") == [] and found("%_") == [] and found("〔2026〕7号") == []
    assert found("观音 桥") == []
    number = Notice.objects.get(pk=notices[30]).project_number
    assert found(f" {number} ") == [notices[30]]


def test_the_filters_apply_to_every_part_of_the_search(notices, authorities):
    jiangbei = authorities["500105"]
    Notice.objects.filter(pk__in=notices[::2]).update(authority=jiangbei)
    for word in ("观音桥", DOCUMENT, "工程"):
        filters = {"q": word, "authority_id": jiangbei.pk, "date_from": starts(9).date()}
        reference = one_or(selectors.public_notices(), "starts_at", **filters)
        assert all_pages(selectors.notice_page, **filters) == in_twenties(reference), word
        assert set(reference) <= set(notices[::2])


def test_each_page_of_a_library_search_is_the_whole_searchs_next_twenty(notices):
    for n, pk in enumerate(notices):
        entry = close_and_enter(Notice.objects.get(pk=pk), f"NP-S-{n:04d}")
        LibraryEntry.objects.filter(pk=entry.pk).update(entered_at=starts(n), **design(n))
    entries = list(LibraryEntry.objects.order_by("national_id").values_list("id", flat=True))

    for word in WORDS:
        reference = one_or(LibraryEntry.objects.all(), "entered_at", q=word)
        assert all_pages(selectors.library_page, q=word) == in_twenties(reference), word
    guanyinqiao = [i for i in range(ROWS) if i % 3 == 0 or i % 5 == 1 or i % 7 == 2]
    assert sum(all_pages(selectors.library_page, q="观音桥"), []) == newest_first(entries, guanyinqiao)
    page = selectors.library_page(2, q="观音桥")
    assert [e.national_id for e in page.items] == [
        f"NP-S-{i:04d}" for i in sorted(guanyinqiao, key=lambda i: (starts(i), entries[i]), reverse=True)[20:]
    ]
    # The 业绩 lookup by an enterprise's name reads the same entries (its name only).
    found = performance.search_page("重庆观音桥建设有限公司", 1)
    assert [r.pk for r in found.items] == newest_first(entries, [i for i in range(ROWS) if i % 5 == 1])


on_postgresql = needs_service(
    connection.vendor == "postgresql", reason="the covering indexes are PostgreSQL's"
)


@on_postgresql
def test_a_word_of_three_characters_asks_its_document_numbers_apart_in_the_same_one_query(notices):
    with CaptureQueriesContext(connection) as captured:
        selectors.notice_page(2, q="观音桥")
        selectors.notice_page(1, q="工程")  # two characters: the bigrams, one part
    union, bigrams = (q["sql"] for q in captured.captured_queries)
    assert union.count(" UNION ") == 1 and "LIMIT 41" in union and "document_numbers" in union
    assert "UNION" not in bigrams


@on_postgresql
def test_the_library_covering_index_holds_every_column_the_list_and_the_lookup_read():
    # publicity 0011: a name searched walks this index alone; a column the pages read that is missing from it sends
    # the walk back to the table for every entry.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'library_recent_cover'")
        (definition,) = cursor.fetchone()
    assert "(entered_at DESC, id DESC)" in definition
    columns = set(re.findall(r"\b[a-z_]+\b", definition.split("INCLUDE", 1)[1].split(")")[0]))
    columns |= {"entered_at", "id"}
    entry_columns = {
        LibraryEntry._meta.get_field(name).attname
        for name in performance.ENTRY_FIELDS
        if not name.startswith("snapshot__")
    }
    assert set(selectors.LIBRARY_LIST_FIELDS) | entry_columns <= columns
    assert "document_numbers" not in columns and "search_bigrams" not in columns


@on_postgresql
def test_an_entry_with_the_widest_values_the_columns_allow_still_enters_the_library(yuzhong):
    # A B-tree entry may not exceed 2,704 bytes: the covering index holds both names but not the document numbers
    # (publicity 0011), so the widest row the columns allow still fits.
    def widest(field, start):
        length = LibraryEntry._meta.get_field(field).max_length
        return "".join(chr(start + n * 7) for n in range(length))  # four bytes each in UTF-8, all different

    long_name = widest("project_name", 0x20000)
    owner = make_enterprise_user(enterprise=EnterpriseFactory(name=long_name[::-1]), username="long")
    entry = close_and_enter(quick_notice(owner, yuzhong, long_name), widest("national_id", 0x23000))
    LibraryEntry.objects.filter(pk=entry.pk).update(
        **{
            field: widest(field, start)
            for field, start in (
                ("project_number", 0x24000),
                ("enterprise_credit_code", 0x25000),
                ("project_type", 0x26000),
                ("document_numbers", 0x21000),
            )
        }
    )

    assert selectors.library_page(1, q=long_name[:5]).items[0].project_name == long_name
