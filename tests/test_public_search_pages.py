"""The pages of the public search (the notice list and the library): what a word finds, page by page, pinned for the
tricky words — common, rare, a document number alone, a project number, punctuation, a credit-code-shaped word, two
characters, two words. On PostgreSQL a page asks the names' matches and the document numbers' apart (a UNION, so
that the names' walk stays on the covering indexes of publicity 0010 and 0011): the rows and their order must be
exactly those of the one OR that search() asks, which the API and the printable list still use."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backfill_portal import compiled_queries
from projects.models import Enterprise
from publicity import performance, selectors, services, snapshots
from publicity.models import LibraryEnterpriseName, LibraryEntry, Notice, Snapshot
from publicity.timing import BEIJING
from tests.builders import EnterpriseFactory, enter_library, make_enterprise_user, make_project
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
    "重庆渝州建工集团有限公司",  # a whole enterprise name: 36 rows, two pages (the library: by its names)
    "渝州建工",  # part of one enterprise name
    "有限公司",  # in every enterprise name
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


def enter_designed(notices) -> list[int]:
    """Each notice's record entered, its entry given design()'s names: the entries' ids in the notices' order."""
    for n, pk in enumerate(notices):
        entry = close_and_enter(Notice.objects.get(pk=pk), f"NP-S-{n:04d}")
        LibraryEntry.objects.filter(pk=entry.pk).update(entered_at=starts(n), **design(n))
        # Written here behind the service's back: the library's names noted as mark_delivered notes them.
        services.note_enterprise_name(design(n)["enterprise_name"])
    return list(LibraryEntry.objects.order_by("national_id").values_list("id", flat=True))


def test_each_page_of_a_library_search_is_the_whole_searchs_next_twenty(notices, monkeypatch):
    entries = enter_designed(notices)

    for word in WORDS:
        reference = one_or(LibraryEntry.objects.all(), "entered_at", q=word)
        assert all_pages(selectors.library_page, q=word) == in_twenties(reference), word
    # A word in more enterprise names than MAX_ENTERPRISE_NAMES is searched in the entries' names themselves.
    monkeypatch.setattr(selectors, "MAX_ENTERPRISE_NAMES", 1)
    for word in ("有限公司", "重庆", "渝州建工"):
        reference = one_or(LibraryEntry.objects.all(), "entered_at", q=word)
        assert all_pages(selectors.library_page, q=word) == in_twenties(reference), word
    monkeypatch.undo()
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


# ---------------------------------------------------------------- the library's enterprise names (publicity 0012)

TRICKY_NAMES = [
    "重庆观音桥建设有限公司",
    "重庆观音桥建设有限公司江北分公司",  # holds the name above
    "ABC幕墙工程有限公司",  # letters: the search ignores their case
    "重庆100%_建工有限公司",  # LIKE's wildcards, as text
    "重庆 两江 建设有限公司",  # spaces: a search of two words
]
NAME_WORDS = [
    *TRICKY_NAMES,
    "观音桥建设",
    "江北分公司",
    "abc幕墙",
    "Abc",
    "100%_建工",
    "%_",
    "两江 建设",
    "观音桥",  # in enterprise names and in a project name
    "有限公司",
    "重庆",
    "不存在的企业",
]


@pytest.fixture
def named_entries(yuzhong):
    """Two entries of each of TRICKY_NAMES' enterprises, entered by the real services, then one of another
    enterprise whose project is named after the first of them."""
    entries = []
    for n, name in enumerate(TRICKY_NAMES):
        owner = make_enterprise_user(enterprise=EnterpriseFactory(name=name), username=f"named-{n}")
        for k in range(2):
            notice = quick_notice(owner, yuzhong, f"渝中区名称测试{n}{k}工程")
            entries.append(close_and_enter(notice, f"NP-N-{n}{k}"))
    other = make_enterprise_user(username="named-other")
    entries.append(
        close_and_enter(quick_notice(other, yuzhong, "重庆观音桥建设有限公司宿舍楼工程"), "NP-N-99")
    )
    return entries


def lookup_page(number, q):
    return performance.search_page(performance.normalise(q), number)


def shown_lookup_page(number, q):
    """The records the lookup shows (performance.lookup_page), each as its entry's id."""
    page = performance.lookup_page(performance.normalise(q), number)
    ids = dict(LibraryEntry.objects.values_list("national_id", "id"))
    items = [SimpleNamespace(id=ids[record.entry.national_id]) for record in page.items]
    return selectors.Page(items=items, number=page.number, has_next=page.has_next)


def assert_found_as_the_entries_names_say(words):
    """The library's pages and the 业绩 lookup's (its entries, and the records it shows) are those of the search
    of the entries' own names."""
    for word in words:
        reference = one_or(LibraryEntry.objects.all(), "entered_at", q=word)
        assert all_pages(selectors.library_page, q=word) == in_twenties(reference), word
        q = performance.normalise(word)
        found = selectors.name_search(performance.entries(), q, "enterprise_name").values_list(
            "id", flat=True
        )
        assert all_pages(lookup_page, q=word) == in_twenties(list(found)), word
        assert all_pages(shown_lookup_page, q=word) == in_twenties(list(found)), word


def test_each_entered_enterprise_name_is_noted_once(named_entries):
    borne = set(LibraryEntry.objects.values_list("enterprise_name", flat=True))
    noted = list(LibraryEnterpriseName.objects.values_list("name", flat=True))
    assert sorted(noted) == sorted(borne) and set(TRICKY_NAMES) <= borne


def test_a_search_through_the_library_names_finds_what_the_entries_names_find(named_entries, monkeypatch):
    assert_found_as_the_entries_names_say(NAME_WORDS)
    monkeypatch.setattr(selectors, "MAX_ENTERPRISE_NAMES", 1)  # the words in two names or more: not by name
    assert_found_as_the_entries_names_say(NAME_WORDS)


def deliver_again(entry):
    """The record's next version (its enterprise's name as it is now) sent and accepted as an update of the
    library's record, the way a correction enters."""
    project = entry.project
    project.refresh_from_db()
    version = Snapshot.objects.filter(project=project).count() + 1
    snapshot = Snapshot.objects.create(
        project=project, version=version, content=snapshots.build_content(project), reason="更正"
    )
    message = services._outbox_for(project, snapshot)
    services.mark_delivered(message.pk, entry.national_id)
    entry.refresh_from_db()
    assert entry.snapshot_id == snapshot.pk and entry.updated_at is not None


def test_a_corrected_entry_is_found_by_its_enterprises_new_name_and_no_longer_by_the_old(named_entries):
    first, second = named_entries[:2]  # the two entries of 重庆观音桥建设有限公司
    deliver_again(first)  # the same name again: noted once
    assert LibraryEnterpriseName.objects.filter(name=TRICKY_NAMES[0]).count() == 1

    Enterprise.objects.filter(pk=first.project.enterprise_id).update(name="重庆观音桥建设集团有限公司")
    deliver_again(first)
    assert first.enterprise_name == "重庆观音桥建设集团有限公司"
    assert LibraryEnterpriseName.objects.filter(name="重庆观音桥建设集团有限公司").exists()
    words = ["重庆观音桥建设集团有限公司", TRICKY_NAMES[0], "观音桥建设"]
    assert_found_as_the_entries_names_say(words)

    deliver_again(second)  # no entry bears the old name any more: it stays noted, and finds none by itself
    assert not LibraryEntry.objects.filter(enterprise_name=TRICKY_NAMES[0]).exists()
    assert_found_as_the_entries_names_say(words)
    assert [e.project_name for e in selectors.library_page(1, q=TRICKY_NAMES[0])] == [
        "重庆观音桥建设有限公司宿舍楼工程",  # its project's name holds it
        "渝中区名称测试11工程",  # …江北分公司
        "渝中区名称测试10工程",
    ]


def test_a_name_the_table_missed_is_noted_again_by_the_next_delivery_and_by_the_daily_read_back(
    named_entries,
):
    """An entry written while the names table was not kept (a worker of the code before it, during its migration):
    its next delivery notes its name, and the daily read-back notes every name that is still missing."""
    first, second = named_entries[0], named_entries[2]
    LibraryEnterpriseName.objects.filter(name__in=[first.enterprise_name, second.enterprise_name]).delete()
    deliver_again(first)  # the same name as before
    assert LibraryEnterpriseName.objects.filter(name=first.enterprise_name).exists()

    assert services.note_missing_enterprise_names() == 1
    assert services.note_missing_enterprise_names() == 0
    test_each_entered_enterprise_name_is_noted_once(named_entries)
    assert_found_as_the_entries_names_say([first.enterprise_name, second.enterprise_name])


@on_postgresql
def test_a_whole_enterprise_name_is_looked_up_in_the_names_then_its_entries_name_by_name(named_entries):
    with CaptureQueriesContext(connection) as captured:
        selectors.library_page(1, q=TRICKY_NAMES[0])
        performance.search_page(TRICKY_NAMES[0], 1)
    names, page, names_again, lookup = (q["sql"] for q in captured.captured_queries)
    assert "publicity_libraryenterprisename" in names and names == names_again
    # The project's names and number, the document numbers, then each of the two names that hold the word.
    assert page.count(" UNION ") == 3 and page.count('"enterprise_name" = ') == 2
    assert lookup.count(" UNION ") == 1 and lookup.count('"enterprise_name" = ') == 2
    for sql in (page, lookup):
        assert 'UPPER("publicity_libraryentry"."enterprise_name"' not in sql
    # The page the lookup shows: the names, then one statement whatever their number (an array of them).
    with CaptureQueriesContext(connection) as captured:
        found = performance.lookup_page(TRICKY_NAMES[0], 1)
    names_again, shown = (q["sql"] for q in captured.captured_queries)
    assert names_again == names and "unnest(" in shown and " UNION " not in shown
    assert len(found.items) == 4  # two entries of each name


def test_the_filters_apply_to_each_enterprise_names_part(named_entries, authorities):
    jiangbei = authorities["500105"]
    LibraryEntry.objects.filter(pk__in=[e.pk for e in named_entries[::2]]).update(authority=jiangbei)
    for word in (TRICKY_NAMES[0], "观音桥建设", "有限公司"):
        filters = {"q": word, "authority_id": jiangbei.pk, "project_type": named_entries[0].project_type}
        reference = one_or(LibraryEntry.objects.all(), "entered_at", **filters)
        assert all_pages(selectors.library_page, **filters) == in_twenties(reference), word
        assert reference and set(reference) <= {e.pk for e in named_entries[::2]}


# ---------------------------------------------------------------- the library's page kept compiled

# The 20 enterprise names bench/notice_pages.py searches the library by at a million records ("library: enterprise
# name"), as bench/seed_records.py names its enterprises.
BENCH_NAMES = [
    "重庆渝中宏达建设工程有限公司",
    "重庆江北宏达建设工程有限公司",
    "重庆南岸宏达建设工程有限公司",
    "重庆沙坪坝宏达建设工程有限公司",
    "重庆九龙坡宏达建设工程有限公司",
    "重庆南岸龙湖建筑工程有限公司",
    "重庆璧山瑞丰建筑工程有限公司",
    "重庆黔江恒信建筑工程有限公司",
    "重庆石柱诚达建设工程有限公司",
    "重庆北碚君豪市政工程有限公司",
    "重庆九龙坡君豪市政工程有限公司",
    "重庆合川金科市政工程有限公司",
    "重庆垫江诚达市政工程有限公司",
    "重庆潼南中渝建筑工程有限公司",
    "重庆江津宏图建设工程有限公司",
    "重庆忠县华建建设工程有限公司",
    "重庆潼南宏达建筑工程有限公司",
    "重庆永川同创建筑工程有限公司",
    "重庆彭水诚达建筑工程有限公司",
    "重庆巫山宏达建筑工程有限公司",
]
BENCH_WORDS = [
    *BENCH_NAMES,
    "宏达建设",  # in five names: name by name
    "建筑工程有限公司",  # in eight
    "工程有限公司",  # in every one: the entries' names
    "宏达",  # two characters: the bigrams
    "不存在的企业",
]


@pytest.fixture
def bench_named_entries(yuzhong, authorities):
    """Entries of enterprises named as the bench's: 45 of the first (three pages), one to four of the others, entered
    a few at the same minute (the id decides between them), in two districts."""
    jiangbei = authorities["500105"]
    for n, name in enumerate(BENCH_NAMES):
        owner = make_enterprise_user(enterprise=EnterpriseFactory(name=name), username=f"bench-{n}")
        for k in range(45 if n == 0 else n % 4 + 1):
            project = make_project(
                owner.membership.enterprise,
                owner,
                yuzhong if k % 3 else jiangbei,
                name=f"{name[2:4]}测试{n:02d}{k:02d}工程",
                evidence=False,
            )
            enter_library(
                project,
                national_id=f"NP-B-{n:02d}{k:02d}",
                entered_at=START + datetime.timedelta(minutes=(n * 7 + k * 5) % 13),
            )


def orm_library_page(number: int, q: str, **filters) -> selectors.Page:
    """The library's page as the ORM asked it before it was kept compiled: the names a word is in, then the page's
    queryset of model instances, built and run each time."""
    names = None
    if connection.vendor == "postgresql" and len(q) >= 3:
        names = list(
            LibraryEnterpriseName.objects.filter(name__icontains=q)
            .order_by()
            .values_list("name", flat=True)[: selectors.MAX_ENTERPRISE_NAMES + 1]
        )
        names = names if len(names) <= selectors.MAX_ENTERPRISE_NAMES else None
    queryset = selectors._ordered_page_queryset(
        LibraryEntry.objects.all(),
        number,
        date_field="entered_at",
        columns=lambda queryset: queryset.only(*selectors.LIBRARY_LIST_FIELDS),
        q=q,
        enterprise_names=names,
        **filters,
    )
    return selectors.page_of(queryset, number)


def listed(page: selectors.Page) -> tuple:
    return (
        [tuple(getattr(row, name) for name in selectors.LIBRARY_LIST_FIELDS) for row in page.items],
        page.number,
        page.has_next,
    )


def test_the_library_page_kept_compiled_is_the_orms_page_for_every_bench_name(
    bench_named_entries, authorities, settings
):
    jiangbei = authorities["500105"]
    compiled_queries.forget()
    # Past the threshold on PostgreSQL: the page's statement prepared, its rows read in binary.
    runs = (settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold") or 1) + 1
    for filters in ({}, {"authority_id": jiangbei.pk}):
        for word in BENCH_WORDS:
            reference = one_or(LibraryEntry.objects.all(), "entered_at", q=word, **filters)
            assert all_pages(selectors.library_page, q=word, **filters) == in_twenties(reference), word
            for number in range(1, len(in_twenties(reference)) + 2):  # and the page past the last
                expected = listed(orm_library_page(number, word, **filters))
                for _ in range(runs):
                    with CaptureQueriesContext(connection) as captured:
                        page = selectors.library_page(number, q=word, **filters)
                    assert listed(page) == expected, (word, number)
                    names = connection.vendor == "postgresql" and len(word) >= 3
                    assert len(captured.captured_queries) == (2 if names else 1)
    assert len(all_pages(selectors.library_page, q=BENCH_NAMES[0])) == 3
    assert len(all_pages(selectors.library_page, q=BENCH_NAMES[0], authority_id=jiangbei.pk)) == 1
