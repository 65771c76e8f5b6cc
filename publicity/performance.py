"""业绩查询: an enterprise's records in the national library, found by its unified social credit code or its name —
the use 渝建〔2018〕213号 names for this library (资质申报、招标投标).

Only what the public snapshot holds, and of it only a fixed list of key figures (KEY_FIGURES) and the stages'
document numbers: amounts, areas, dates, numbers. Never an ID number, a phone or an evidence file — a whitelist,
so a field added to a stage later is not published here by accident.

Bounded: a search is one query (LIMIT page+1, like the other public lists; one more for the names a word is in);
an enterprise's page is one on PostgreSQL (its entries with their versions, _ENTERPRISE_PAGE_SQL), two elsewhere
(its entries, then every version of those entries at once), whatever the number of records. Indexed: the credit
code by `library_enterprise_recent` (publicity 0004), a word in a few enterprise names by the names' table and
`library_enterprise_name` (publicity 0012), other words by the trigram index on UPPER(enterprise_name) (publicity
0003, PostgreSQL) or, for a two-character word, by the bigram index (publicity 0008). On PostgreSQL the pages read
only the values shown out of the snapshots, in statements written out once and prepared (_record_page); the
records are printed by publicity.rows.performance_cards.
"""

import json
import re
from collections import namedtuple
from dataclasses import dataclass, field

from django.db import connection
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from backfill_portal.database import preparing_cursor
from projects.models import STAGE_MODELS, STAGE_ORDER, StageCode

from . import rows, selectors
from .models import LibraryEntry, Notice, NoticeState, Snapshot
from .page_cache import cached_for_anonymous

NOTICE_STATES = dict(NoticeState.choices)
CREDIT_CODE = re.compile(r"[0-9A-Z]{18}")  # the form; the check character is not needed to look up

# (label, where in the snapshot's content, field): what the lookup shows of each record.
KEY_FIGURES = [
    ("总投资（元）", "project", "total_investment"),
    ("总面积（平方米）", "project", "total_area"),
    ("中标金额（元）", "tendering", "award_amount"),
    ("中标日期", "tendering", "awarded_on"),
    ("合同金额（元）", "contract", "amount"),
    ("施工许可发证日期", "permit", "issued_on"),
    ("实际造价（元）", "completion", "actual_cost"),
    ("实际面积（平方米）", "completion", "actual_area"),
    ("实际竣工验收日期", "completion", "actual_completion_on"),
]

ENTRY_FIELDS = (
    "id",
    "national_id",
    "national_version",
    "entered_at",
    "updated_at",
    "project_id",
    "project_number",
    "project_name",
    "enterprise_name",
    "enterprise_credit_code",
    "snapshot__id",
    "snapshot__version",
    "snapshot__content",
)


@dataclass
class Record:
    """One entered record as the lookup shows it: text only."""

    entry: LibraryEntry  # or an EntryRow (_record_page, on PostgreSQL)
    figures: list = field(default_factory=list)  # [(label, value)]
    documents: list = field(default_factory=list)  # [(stage label, document number)]
    versions: list = field(default_factory=list)  # [(version, 当前 or how its notice ended)], newest first


# What the 业绩 pages show of an entry (publicity.rows.performance_cards).
EntryRow = namedtuple(
    "EntryRow",
    "national_id project_number project_name enterprise_name enterprise_credit_code entered_at updated_at",
)
CURRENT = "当前"
UNNOTICED = "未公示"


def version_state(version: int, current: int, notice_state: str | None) -> str:
    """What the page says of a published version: the entry's current one, or how its notice ended."""
    if version == current:
        return CURRENT
    return str(NOTICE_STATES.get(notice_state, notice_state or "")) or UNNOTICED


def key_figures(content: dict) -> list[tuple[str, str]]:
    stages = content.get("stages") or {}
    found = []
    for label, where, name in KEY_FIGURES:
        source = content.get("project") if where == "project" else stages.get(where)
        value = (source or {}).get(name)
        if value not in (None, ""):
            found.append((label, str(value)))
    return found


def document_numbers(content: dict) -> list[tuple[str, str]]:
    stages = content.get("stages") or {}
    found = []
    for code in STAGE_ORDER:
        number = (stages.get(code) or {}).get(STAGE_MODELS[code].document_field)
        if number:
            found.append((StageCode(code).label, number))
    return found


def records(entries) -> list[Record]:
    return [
        Record(
            entry=e, figures=key_figures(e.snapshot.content), documents=document_numbers(e.snapshot.content)
        )
        for e in entries
    ]


# Where each value the lookup shows lies in a snapshot's content: KEY_FIGURES' in their order, then each stage's
# document number in STAGE_ORDER (what key_figures() and document_numbers() read).
SHOWN_PATHS = [
    ("project", name) if where == "project" else ("stages", where, name)
    for _label, where, name in KEY_FIGURES
] + [("stages", code, STAGE_MODELS[code].document_field) for code in STAGE_ORDER]
VALUE_FIELDS = (
    "id",
    "national_id",
    "project_number",
    "project_name",
    "enterprise_name",
    "enterprise_credit_code",
)


def _at(content, path):
    for name in path:
        content = content.get(name) if isinstance(content, dict) else None
    return content


def shown_values(content: dict) -> list:
    """The values at SHOWN_PATHS (None where absent), as PostgreSQL's `#>` gives them in entry_values()."""
    return [_at(content, path) for path in SHOWN_PATHS]


# The labels shown() pairs with the values at SHOWN_PATHS, looked up once: str(StageCode(code).label) (the enum's
# lookup, then Choices' label) took 4.6 µs on the bench machine, about 0.5 ms for a page of 20 records with five
# document numbers each — more than the rest of building those rows.
_FIGURE_LABELS = tuple(label for label, _where, _name in KEY_FIGURES)
_DOCUMENT_LABELS = tuple(str(StageCode(code).label) for code in STAGE_ORDER)


def shown(values: list) -> tuple[list, list]:
    """shown_values() as key_figures() and document_numbers() show them, as lists of [label, text]: the figures
    that are not empty, the document numbers that are."""
    figures = [
        [label, str(value)]
        for label, value in zip(_FIGURE_LABELS, values[: len(KEY_FIGURES)], strict=True)
        if value not in (None, "")
    ]
    documents = [
        [label, str(value)]
        for label, value in zip(_DOCUMENT_LABELS, values[len(KEY_FIGURES) :], strict=True)
        if value
    ]
    return figures, documents


# PostgreSQL: the page of entry_values() written out once and prepared (EntryRows). The values shown are picked out
# of the entered snapshot's content by one jsonb_build_array over SHOWN_PATHS (constants of this module, plain
# names), the published versions up to the entered one gathered by an index-only scan of snapshot_version_unique per
# row: neither the whole content nor a second query comes back. One text per direction of the ordering and
# comparison of the position: what DRF's cursor paginator asks for (EntryRows.ORDERINGS, POSITIONS).
def _entry_page_sql(direction: str, operator: str | None) -> str:
    columns = ", ".join(f"e.{name}" for name in VALUE_FIELDS)
    shown = ", ".join("s.content #> '{{{}}}'".format(",".join(path)) for path in SHOWN_PATHS)
    entries, snapshots = LibraryEntry._meta.db_table, Snapshot._meta.db_table
    position = f" AND e.entered_at {operator} %s" if operator else ""
    return (
        f"SELECT {columns}, e.entered_at, jsonb_build_array({shown})::text AS shown, "
        f"ARRAY(SELECT published.version FROM {snapshots} published WHERE published.project_id = e.project_id "
        "AND published.version <= s.version ORDER BY published.version DESC) AS versions "
        f"FROM {entries} e INNER JOIN {snapshots} s ON s.id = e.snapshot_id "
        f"WHERE e.enterprise_credit_code = %s{position} "
        f"ORDER BY e.entered_at {direction}, e.id {direction} LIMIT %s OFFSET %s"
    )


_ENTRY_PAGE_SQL = {
    (direction, operator): _entry_page_sql(direction, operator)
    for direction in ("DESC", "ASC")
    for operator in (None, "<", ">")
}
_ENTRY_PAGE_COLUMNS = (*VALUE_FIELDS, "entered_at", "shown", "versions")


class EntryRows:
    """An enterprise's entries as entry_values() gives them on PostgreSQL, for DRF's cursor paginator
    (api.pagination), which asks its queryset for three things only: order_by() one of ORDERINGS, filter() by a
    position of `entered_at` (POSITIONS), then a slice, which runs the query.

    Each combination is one statement written out once (_ENTRY_PAGE_SQL), not compiled by the ORM at each call
    (compiling took a quarter of the call's Python), on a cursor whose statements psycopg prepares
    (backfill_portal.database), so PostgreSQL plans it once per connection: its plan is the same for every
    enterprise (the index library_enterprise_recent, then the snapshot by its key), and planning it took longer than
    running it (0.42 ms against 0.29 at 100k records; bench/README.md, api.py)."""

    ORDERINGS = {("-entered_at", "-id"): "DESC", ("entered_at", "id"): "ASC"}
    POSITIONS = {"entered_at__lt": "<", "entered_at__gt": ">"}

    def __init__(self, credit_code: str, direction: str = "DESC", position=None):
        self.credit_code = credit_code
        self.direction = direction
        self.position = position  # (operator, value) or None

    def order_by(self, *fields):
        return EntryRows(self.credit_code, self.ORDERINGS[fields], self.position)

    def filter(self, **lookup):
        ((name, value),) = lookup.items()
        # The value as the ORM prepares it for entered_at__lt: a text parsed (a ValidationError if it is not a
        # date and time), a naive one taken in the current time zone.
        value = LibraryEntry._meta.get_field("entered_at").get_db_prep_value(
            value, connection, prepared=False
        )
        return EntryRows(self.credit_code, self.direction, (self.POSITIONS[name], value))

    def __getitem__(self, page: slice) -> list[dict]:
        operator, value = self.position or (None, None)
        params = [self.credit_code, *([value] if operator else []), page.stop - page.start, page.start]
        with preparing_cursor() as cursor:
            cursor.execute(_ENTRY_PAGE_SQL[self.direction, operator], params)
            rows = [dict(zip(_ENTRY_PAGE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        # `shown` comes as the text of its jsonb: the page's decoded in one call.
        for row, shown in zip(rows, json.loads(f"[{','.join(row['shown'] for row in rows)}]"), strict=True):
            row["shown"] = shown
        return rows


_entry_values = None


def entry_values(credit_code: str):
    """An enterprise's entries as plain rows for the API (no model instances): VALUE_FIELDS, `entered_at`,
    `shown` (shown_values() of the entered snapshot) and `versions` (its published versions, newest first).
    On PostgreSQL one prepared query (EntryRows). Elsewhere a values() queryset, to which with_versions() adds
    `shown` and the versions; the query without its filter is built once (filter() copies it, never changes it)."""
    global _entry_values
    if connection.vendor == "postgresql":
        return EntryRows(credit_code)
    if _entry_values is None:
        _entry_values = LibraryEntry.objects.values(
            *VALUE_FIELDS, "entered_at", "project_id", "snapshot__version", "snapshot__content"
        )
    return _entry_values.filter(enterprise_credit_code=credit_code)


def with_versions(rows: list[dict]) -> list[dict]:
    """entry_values()' rows complete: on a database other than PostgreSQL, `shown` from the content and the
    versions in one more query (as attach_versions())."""
    if not rows or "versions" in rows[0]:
        return rows
    by_project = {}
    for row in rows:
        row["shown"] = shown_values(row["snapshot__content"])
        row["versions"] = []
        by_project[row["project_id"]] = row
    versions = (
        Snapshot.objects.filter(project_id__in=by_project)
        .order_by("project_id", "-version")
        .values_list("project_id", "version")
    )
    for project_id, version in versions:
        row = by_project[project_id]
        if version <= row["snapshot__version"]:
            row["versions"].append(version)
    return rows


def normalise(q: str) -> str:
    return " ".join((q or "").split())[:100]


def entries():
    return LibraryEntry.objects.select_related("snapshot").only(*ENTRY_FIELDS).order_by("-entered_at", "-id")


def search_page(q: str, number: int) -> selectors.Page:
    """A credit code (18 letters or digits) matches exactly; anything else is part of a name: on PostgreSQL a
    word in a few of the library's enterprise names through those names (selectors.library_enterprise_names:
    one query more), otherwise the entries' names themselves. The entries' page (lookup_page(): as shown)."""
    return selectors.page_of(_search_queryset(q, *_searched(q), number), number)


def _searched(q: str) -> tuple[str | None, list[str] | None]:
    """(the credit code `q` is, or None; else the enterprise names holding it, or None: see search_page())."""
    if CREDIT_CODE.fullmatch(q.upper()):
        return q.upper(), None
    return None, selectors.library_enterprise_names(q)


def _search_queryset(q: str, code: str | None, names: list[str] | None, number: int):
    if code:
        return entries().filter(enterprise_credit_code=code)
    if names is not None:
        return bearing(entries(), names, selectors.page_end(number))
    return selectors.name_search(entries(), q, "enterprise_name")


def bearing(queryset, names: list[str], end: int):
    """The entries of `queryset` whose enterprise name is one of `names` (exactly), among the first `end` of each
    name newest first (enough for a page ending at `end`): each name's entries walked on `library_enterprise_name`
    (publicity 0012) and cut there, their ids gathered in a UNION (PostgreSQL), so a page never sorts every entry
    of a name (5,871 for the largest enterprise at a million records)."""
    if not names:
        return queryset.none()
    first, *others = (
        LibraryEntry.objects.filter(enterprise_name=name).order_by("-entered_at", "-id").values("id")[:end]
        for name in names
    )
    return queryset.filter(id__in=first.union(*others) if others else first)


# PostgreSQL: a page of records in one prepared statement (as EntryRows). The page's ids are cut first: by an
# index-only scan of library_enterprise_recent for a credit code (a deep page skips index entries, not rows), or of
# library_enterprise_name for each of a few names (the first `end` of each, as bearing() does, in one statement
# whatever the number of names); then for those rows only the values shown (SHOWN_PATHS) out of the entered
# snapshot, and on an enterprise's page its published versions with how each one's notice ended (the
# snapshots by their project, the notice by its snapshot). The ORM's queries built 40 to 80 model instances and
# compiled their SQL at each request (bench/README.md).
_BY_CREDIT_CODE = (
    "SELECT id FROM {entries} WHERE enterprise_credit_code = %s "
    "ORDER BY entered_at DESC, id DESC LIMIT %s OFFSET %s"
)
_BY_NAMES = (
    "SELECT named.id FROM unnest(%s::text[]) AS wanted(name) CROSS JOIN LATERAL (SELECT id, entered_at "
    "FROM {entries} WHERE enterprise_name = wanted.name ORDER BY entered_at DESC, id DESC LIMIT %s) named "
    "ORDER BY named.entered_at DESC, named.id DESC LIMIT %s OFFSET %s"
)


def _records_sql(ids: str, *, versions: bool) -> str:
    entries, snapshots = LibraryEntry._meta.db_table, Snapshot._meta.db_table
    notices = Notice._meta.db_table
    columns = ", ".join(f"e.{name}" for name in EntryRow._fields)
    shown = ", ".join("s.content #> '{{{}}}'".format(",".join(path)) for path in SHOWN_PATHS)
    published = (
        "CROSS JOIN LATERAL (SELECT array_agg(published.version ORDER BY published.version DESC) AS versions, "
        "array_agg(n.state ORDER BY published.version DESC) AS states "
        f"FROM {snapshots} published LEFT OUTER JOIN {notices} n ON n.snapshot_id = published.id "
        "WHERE published.project_id = e.project_id AND published.version <= s.version) v "
    )
    return (
        f"SELECT {columns}, jsonb_build_array({shown})::text AS shown"
        + (", s.version, v.versions, v.states " if versions else " ")
        + f"FROM ({ids.format(entries=entries)}) page "
        f"INNER JOIN {entries} e ON e.id = page.id INNER JOIN {snapshots} s ON s.id = e.snapshot_id "
        + (published if versions else "")
        + "ORDER BY e.entered_at DESC, e.id DESC"
    )


_ENTERPRISE_PAGE_SQL = _records_sql(_BY_CREDIT_CODE, versions=True)
_LOOKUP_SQL = {
    "credit code": _records_sql(_BY_CREDIT_CODE, versions=False),
    "names": _records_sql(_BY_NAMES, versions=False),
}


def _record_page(sql: str, params: list, number: int) -> selectors.Page:
    """Run one of the statements above for page `number` (`params` without the page's LIMIT and OFFSET)."""
    size = selectors.PAGE_SIZE
    with preparing_cursor() as cursor:
        cursor.execute(sql, [*params, size + 1, (number - 1) * size])
        rows = cursor.fetchall()
    width = len(EntryRow._fields)
    # `shown` comes as the text of its jsonb: the page's decoded in one call.
    values = json.loads(f"[{','.join(row[width] for row in rows)}]")
    found = []
    for row, shown_values in zip(rows[:size], values, strict=False):
        figures, documents = shown(shown_values)
        record = Record(entry=EntryRow._make(row[:width]), figures=figures, documents=documents)
        if len(row) > width + 1:
            current, versions, states = row[width + 1 :]
            record.versions = [
                (version, version_state(version, current, state))
                for version, state in zip(versions, states, strict=True)
            ]
        found.append(record)
    return selectors.Page(items=found, number=number, has_next=len(rows) > size)


def enterprise_page(credit_code: str, number: int) -> selectors.Page:
    """An enterprise's records newest first, page `number`, each with its published versions: on PostgreSQL one
    prepared query (_ENTERPRISE_PAGE_SQL), elsewhere the entries' page and their versions (two queries)."""
    if connection.vendor == "postgresql":
        return _record_page(_ENTERPRISE_PAGE_SQL, [credit_code], number)
    page = selectors.page_of(entries().filter(enterprise_credit_code=credit_code), number)
    found = records(page)
    attach_versions(found)
    return selectors.Page(items=found, number=number, has_next=page.has_next)


def lookup_page(q: str, number: int) -> selectors.Page:
    """The records search_page() finds, as the lookup shows them: on PostgreSQL, for a credit code or a word in a
    few enterprise names, one prepared query (_LOOKUP_SQL) after the names' one; otherwise search_page()'s."""
    code, names = _searched(q)
    if code and connection.vendor == "postgresql":
        return _record_page(_LOOKUP_SQL["credit code"], [code], number)
    if names:  # found in the names' table: PostgreSQL
        return _record_page(_LOOKUP_SQL["names"], [names, selectors.page_end(number)], number)
    page = selectors.page_of(_search_queryset(q, code, names, number), number)
    return selectors.Page(items=records(page), number=number, has_next=page.has_next)


def attach_versions(found: list[Record]):
    """Every published version of the page's records, in one query (the current one and the earlier ones)."""
    by_project = {r.entry.project_id: r for r in found}
    versions = (
        Snapshot.objects.filter(project_id__in=by_project)
        .select_related("notice")
        .only("id", "project_id", "version", "created_at", "notice__id", "notice__state")
        .order_by("project_id", "-version")
    )
    for snapshot in versions:
        record = by_project[snapshot.project_id]
        current = record.entry.snapshot.version
        if snapshot.version <= current:
            notice = getattr(snapshot, "notice", None)  # None: no notice (a LEFT JOIN's miss)
            record.versions.append(
                (snapshot.version, version_state(snapshot.version, current, notice and notice.state))
            )


@require_GET
@cached_for_anonymous
def lookup(request):
    q = normalise(request.GET.get("q", ""))
    page = None
    if q:
        page = lookup_page(q, selectors.page_number(request.GET.get("page")))
    return render(
        request,
        "public/performance_lookup.html",
        {
            "q": q,
            "page": page,
            "cards": rows.performance_cards(page, show_enterprise=True) if page else [],
        },
    )


@require_GET
@cached_for_anonymous
def enterprise(request, credit_code):
    credit_code = credit_code.upper()
    if not CREDIT_CODE.fullmatch(credit_code):
        raise Http404("统一社会信用代码格式不正确。")
    page = enterprise_page(credit_code, selectors.page_number(request.GET.get("page")))
    if not page.items:
        raise Http404("该企业没有已入库的补录项目。")
    found = page.items
    return render(
        request,
        "public/performance_enterprise.html",
        {
            "credit_code": credit_code,
            "enterprise_name": found[0].entry.enterprise_name,
            "page": page,
            "cards": rows.performance_cards(found, show_enterprise=False),
        },
    )
