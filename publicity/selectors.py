"""Reads for the public pages: what anyone may see, in a fixed number of queries whatever the data size.

Every page reads the denormalised columns of Notice / LibraryEntry (no join to Project), and the public list
pages ask for one row more than a page instead of counting the matches (COUNT(*) over 100k rows costs more
than the page itself): the pager says "next page" without "page 3 of 5,000".
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from backfill_portal import compiled_queries

from . import authorities as public_authorities
from .models import LibraryEnterpriseName, LibraryEntry, Notice, NoticeState, Objection, Snapshot
from .timing import BEIJING

PUBLIC_STATES = (NoticeState.RUNNING, NoticeState.PAUSED)
PAGE_SIZE = 20
# Deep OFFSETs get slower page by page; nobody reads page 500 of a list: they search.
MAX_PAGE = 500
# A word in at most this many of the library's enterprise names is matched name by name
# (library_enterprise_names); in more (建设工程, 有限公司), in the entries' names as before.
MAX_ENTERPRISE_NAMES = 10

# The list pages read only these columns (the snapshot's JSON stays on disk).
NOTICE_LIST_FIELDS = (
    "id",
    "state",
    "starts_at",
    "ends_at",
    "remaining_seconds",
    "project_number",
    "project_name",
    "enterprise_name",
    "authority_id",
    "project_type",
)
LIBRARY_LIST_FIELDS = (
    "id",
    "national_id",
    "national_version",
    "entered_at",
    "updated_at",
    "project_number",
    "project_name",
    "enterprise_name",
    "authority_id",
    "project_type",
)


def authorities() -> list:
    """The 43 review authorities as (id, code, name) rows, for the filter and for naming each row's authority
    without a join: kept in this process's memory between changes (publicity/authorities.py)."""
    return public_authorities.rows()


def public_notices():
    return Notice.objects.filter(state__in=PUBLIC_STATES)


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=BEIJING)


def search(
    queryset,
    *,
    q: str = "",
    authority_id: int | None = None,
    project_type: str = "",
    date_field: str,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
):
    """Search and filters shared by the notice list and the library (both carry the same search columns).

    `q` matches: the project number exactly (indexed); a document number exactly, as one whole token of the
    space-separated `document_numbers` column; or part of the project or enterprise name (icontains).
    A substring match cannot use a B-tree index: on PostgreSQL, trigram GIN indexes (pg_trgm, migration
    publicity 0003) on UPPER(project_name), UPPER(enterprise_name) and document_numbers make every branch of the
    OR indexable, so a search reads only the matching rows (terms shorter than three characters have no trigram
    and scan). On SQLite the name clauses scan the rows left after the state/authority filters. Matching
    document numbers as whole tokens (not substrings of them) keeps a search for "2016" from matching every
    record.
    The list pages ask the same rows through _ordered_page_queryset(), on PostgreSQL as a UNION (see there).
    A two-character term (most Chinese search words) has no trigram: on PostgreSQL it is matched in the names only,
    through the bigram GIN index of publicity 0008 (`_bigram_filter`); no project or document number is two
    characters long.
    Dates are Beijing calendar days, both ends included.
    """
    queryset = _matching(queryset, " ".join((q or "").split()))[0]
    return _filtered(
        queryset,
        authority_id=authority_id,
        project_type=project_type,
        date_field=date_field,
        date_from=date_from,
        date_to=date_to,
    )


def _matching(queryset, q: str, *, apart: bool = False, enterprise_names: list[str] | None = None) -> list:
    """The rows `q` matches (search()), as one queryset; with `apart`, on PostgreSQL, as two whose union is the
    same rows: the names' and the project number's matches, and the document numbers' (see
    _ordered_page_queryset()). With
    `enterprise_names` (library_enterprise_names(q), which `apart` requires), the enterprise names' matches are
    asked apart too, one part a name: the entries that bear it exactly."""
    if not q:
        return [queryset]
    if uses_bigrams(q):
        return [name_search(queryset, q, "project_name", "enterprise_name")]
    names = Q(project_number=q) | Q(project_name__icontains=q)
    by_name = []
    if enterprise_names is None:
        names |= Q(enterprise_name__icontains=q)
    else:
        assert apart and connection.vendor == "postgresql", "enterprise names are asked apart"
        by_name = [queryset.filter(enterprise_name=name) for name in enterprise_names]
    if " " in q:
        return [queryset.filter(names), *by_name]
    numbers = (
        Q(document_numbers=q)
        | Q(document_numbers__startswith=f"{q} ")
        | Q(document_numbers__endswith=f" {q}")
        | Q(document_numbers__contains=f" {q} ")
    )
    if apart and connection.vendor == "postgresql":
        return [queryset.filter(names), queryset.filter(numbers), *by_name]
    return [queryset.filter(names | numbers)]


def library_enterprise_names(q: str) -> list[str] | None:
    """The library's enterprise names that hold `q` (icontains, as the search compares them), on PostgreSQL, for
    a word of three characters or more in at most MAX_ENTERPRISE_NAMES of them; None otherwise (then the entries'
    own names are searched: SQLite, a shorter word, a word in many names). One query on the names' trigram index
    (publicity 0012: about 50 index pages for a whole name, where the trigram index of the 830,000 entries'
    names read 1,000 at a million records, the trigrams common to every name pointing at every entry); the
    entries of each name found are then read newest first on `library_enterprise_name`, up to the page's end."""
    if connection.vendor != "postgresql" or len(q) < 3:
        return None
    limit = MAX_ENTERPRISE_NAMES + 1
    # Kept compiled for the word (backfill_portal/compiled_queries.py), as the page's query that follows it.
    rows = compiled_queries.named_rows(
        ("library_enterprise_names", q, limit),
        lambda: (
            LibraryEnterpriseName.objects.filter(name__icontains=q)
            .order_by()
            .values_list("name", named=True)[:limit]
        ),
    )
    return [row.name for row in rows] if len(rows) < limit else None


def _filtered(queryset, *, authority_id=None, project_type="", date_field, date_from=None, date_to=None):
    if authority_id:
        queryset = queryset.filter(authority_id=authority_id)
    if project_type:
        queryset = queryset.filter(project_type=project_type)
    if date_from:
        queryset = queryset.filter(**{f"{date_field}__gte": _day_start(date_from)})
    if date_to:
        queryset = queryset.filter(**{f"{date_field}__lt": _day_start(date_to + datetime.timedelta(days=1))})
    return queryset


# publicity 0008's generated column (PostgreSQL only; not a model field): the bigrams of the project and enterprise
# names, GIN-indexed.
BIGRAMS = "{table}.search_bigrams"


def uses_bigrams(term: str) -> bool:
    return len(term) == 2 and connection.vendor == "postgresql"


def name_search(queryset, term: str, *fields: str):
    """`term` in any of the name columns `fields` (icontains); a two-character term on PostgreSQL through the
    bigram index of both names first."""
    match = Q()
    for name in fields:
        match |= Q(**{f"{name}__icontains": term})
    if uses_bigrams(term):
        queryset = queryset.filter(_bigram_filter(queryset.model, term))
        if set(fields) == {"project_name", "enterprise_name"}:
            # The bigrams of both names (joined by a space, which a term never holds): the containment says exactly
            # what the icontains would. Left out, because PostgreSQL has no statistics for the icontains on the
            # partial trigram indexes, guesses a handful of rows for 工程 and sorts 85,000.
            return queryset
    return queryset.filter(match)


def _bigram_filter(model, term: str) -> RawSQL:
    """The names hold the two characters side by side: answered by the GIN index, so a rare word reads its matches
    only. The icontains beside it still decides which of the names holds it."""
    table = connection.ops.quote_name(model._meta.db_table)
    return RawSQL(
        f"{BIGRAMS.format(table=table)} @> ARRAY[%s]::text[]", [term.upper()], output_field=BooleanField()
    )


@dataclass
class Page:
    """One page of an ordered queryset, read with LIMIT size+1: whether there is a next page, never how many."""

    items: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def page_number(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def page_of(queryset, number: int, size: int = PAGE_SIZE) -> Page:
    """One query, whatever the number of matches. `queryset` must be ordered (a stable, unique order)."""
    assert queryset.ordered, "paginate an ordered queryset"
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


def compiled_page_of(key, make_queryset, number: int, size: int = PAGE_SIZE) -> Page:
    """page_of for a queryset of named rows (values_list(named=True)) made by `make_queryset`, built and compiled to
    SQL once per process for `key` and the page (backfill_portal/compiled_queries.py): `key` says everything the
    queryset depends on. The same query, the same rows."""
    offset = (number - 1) * size

    def make():
        queryset = make_queryset()
        assert queryset.ordered, "paginate an ordered queryset"
        return queryset[offset : offset + size + 1]

    rows = compiled_queries.named_rows((key, offset, size), make)
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


def notice_page(number: int, **filters) -> Page:
    """Rows as named tuples of NOTICE_LIST_FIELDS, not Notice instances: the list prints them (building a model
    instance a row was a tenth of an uncached /notices/, bench/README.md)."""

    def make_queryset():
        return _ordered_page_queryset(
            public_notices(),
            number,
            date_field="starts_at",
            columns=lambda queryset: queryset.values_list(*NOTICE_LIST_FIELDS, named=True),
            **filters,
        )

    return compiled_page_of(("notice_page", tuple(sorted(filters.items()))), make_queryset, number)


def library_page(number: int, **filters) -> Page:
    """Rows as named tuples of LIBRARY_LIST_FIELDS, as notice_page(): the page's query built and compiled once per
    process for its filters and the enterprise names its word is in (library_enterprise_names: the query before
    it, kept compiled too), on PostgreSQL run prepared with its values written in (building and compiling the
    UNION of a name's parts was half of a search by an enterprise's name at a million records, bench/README.md)."""
    enterprise_names = library_enterprise_names(" ".join((filters.get("q") or "").split()))

    def make_queryset():
        return _ordered_page_queryset(
            LibraryEntry.objects.all(),
            number,
            date_field="entered_at",
            columns=lambda queryset: queryset.values_list(*LIBRARY_LIST_FIELDS, named=True),
            enterprise_names=enterprise_names,
            **filters,
        )

    key = (
        "library_page",
        tuple(sorted(filters.items())),
        None if enterprise_names is None else tuple(enterprise_names),
    )
    return compiled_page_of(key, make_queryset, number)


def page_end(number: int) -> int:
    """How many rows, newest first, hold page `number` and the one row beyond it that page_of() reads."""
    return number * PAGE_SIZE + 1


def _ordered_page_queryset(
    queryset,
    number: int,
    *,
    date_field: str,
    columns,
    q: str = "",
    enterprise_names: list[str] | None = None,
    **filters,
):
    """search() newest first, ordered for page `number` but not yet cut to it. On PostgreSQL a word of three
    characters or more is asked as the UNION of its names' matches and its document numbers' matches, each newest
    first and cut at this page's end: the same rows in the same order as the OR of search(). Asked as one OR, the
    filter reads the document numbers, which the covering newest-first indexes cannot hold (a B-tree entry's
    size limit, publicity 0010), so a common word's walk read the table for every row it passed; apart, the
    names' walk is an index-only scan, and each part still takes its own trigram bitmap for a rare word.
    The library asks a word found in a few of its enterprise names name by name (`enterprise_names`: what
    library_enterprise_names(q) found, one query before), each name's entries a part of the union. Its SQL depends
    on the arguments only (so the lists can keep it compiled)."""
    order = (f"-{date_field}", "-id")
    q = " ".join((q or "").split())
    parts = [
        columns(_filtered(part, date_field=date_field, **filters).order_by(*order))
        for part in _matching(queryset, q, apart=True, enterprise_names=enterprise_names)
    ]
    if len(parts) == 1:
        return parts[0]
    first, *others = (part[: page_end(number)] for part in parts)
    return first.union(*others).order_by(*order)


def public_notice_or_404(notice_id: int) -> Notice:
    """A notice running or paused, with its snapshot but not the snapshot's content: one query. The content (the
    largest column) is read only when the page's cached sections are missing (publicity/page_cache.py). A closed
    or cancelled notice is not public here (what entered the national library is at /library/)."""
    return get_object_or_404(
        public_notices().select_related("snapshot").defer("snapshot__content"), pk=notice_id
    )


def library_entry_or_404(national_id: str) -> LibraryEntry:
    return get_object_or_404(LibraryEntry.objects.select_related("snapshot"), national_id=national_id)


def published_versions(entry: LibraryEntry) -> list[Snapshot]:
    """The snapshot versions of the entry's project up to its current one (earlier notices, earlier
    entries), with how each notice ended: one query, without the snapshots' content."""
    return list(
        Snapshot.objects.filter(project_id=entry.project_id, version__lte=entry.snapshot.version)
        .select_related("notice")
        .only(
            "id",
            "project_id",
            "version",
            "content_hash",
            "created_at",
            "notice__id",
            "notice__state",
            "notice__starts_at",
            "notice__closed_at",
        )
        .order_by("-version")
    )


def published_snapshot_or_404(entry: LibraryEntry, version: int) -> Snapshot:
    return get_object_or_404(
        Snapshot.objects.select_related("notice"),
        project_id=entry.project_id,
        version=version,
        version__lte=entry.snapshot.version,
    )


def normalise_reference(value: str) -> str:
    return "".join((value or "").split()).upper()


def objection_status_or_404(reference: str) -> Objection:
    """What the objector reads by reference: status, outcome, dates, the project noticed — never the contact
    (the columns are not even read)."""
    return get_object_or_404(
        Objection.objects.select_related("notice").only(
            "id",
            "reference",
            "status",
            "outcome",
            "submitted_at",
            "handled_at",
            "notice__id",
            "notice__state",
            "notice__project_number",
            "notice__project_name",
        ),
        reference=normalise_reference(reference),
    )
