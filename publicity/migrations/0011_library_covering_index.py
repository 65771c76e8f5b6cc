"""The library searched by a name at a million records (docs/architecture.md, "At national scale"; the EXPLAIN
figures in bench/README.md, notice_pages, "the library's walk by an enterprise's name").

A covering newest-first index of the library entries, as publicity 0010 gave the public notices: every column the
library list shows and the names a search filters on in INCLUDE, and the columns the 业绩 lookup reads of an entry
(publicity.performance.ENTRY_FIELDS: its project, snapshot and credit code). A word in many names (an enterprise
with thousands of records, 建设工程) walks the entries newest first and stops at a page; without this index each
entry it passed was a table page read (the entries of one enterprise are scattered over the 830,000 rows' pages:
page 1 of the largest read ~3,000 of them), with it the walk is an index-only scan. A rare word still takes the
trigram bitmap of publicity 0003. (An index-only scan skips the table for the pages the visibility map marks
all-visible: autovacuum keeps it, the entries being written once and seldom changed.)

Not the document numbers (400 characters) nor the bigrams of publicity 0009: with them the widest row the columns
allow would exceed a B-tree entry's 2,704 bytes and PostgreSQL would refuse to write the entry; without them it is
about 2.3 kB (tests/test_public_pages.py writes that row). publicity.selectors asks the document numbers' matches
apart (a UNION), so the names' walk stays index-only.

PostgreSQL only (INCLUDE is not SQLite's: Django cannot declare this index on the model, models.W040); nothing is
created on SQLite, where the model's (-entered_at, -id) index still orders the list.
"""

from django.db import migrations

COVERING_INDEX = "library_recent_cover"
# publicity.selectors.LIBRARY_LIST_FIELDS and publicity.performance.ENTRY_FIELDS of the entry (the key holds
# entered_at and id). A column added to those belongs here too, or the walk goes back to the table for every row;
# a long one does not (see above: the widest row must fit).
COVERING_COLUMNS = (
    "national_id",
    "national_version",
    "updated_at",
    "project_number",
    "project_name",
    "enterprise_name",
    "authority_id",
    "project_type",
    "project_id",
    "snapshot_id",
    "enterprise_credit_code",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = ", ".join(f'"{column}"' for column in COVERING_COLUMNS)
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{COVERING_INDEX}" ON "publicity_libraryentry" '
        f'("entered_at" DESC, "id" DESC) INCLUDE ({columns})'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{COVERING_INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("publicity", "0010_public_search_statistics_covering_index")]

    operations = [migrations.RunPython(create, drop)]
