"""Searches of the public notices that stay fast for common words at a million records (docs/architecture.md, "At
national scale"; the EXPLAIN figures in bench/README.md, notice_pages, 2026-12-03).

- **Statistics of the searched expressions.** A search of three characters or more filters on
  `UPPER(project_name::text) LIKE …` and `UPPER(enterprise_name::text) LIKE …` (Django's icontains). PostgreSQL
  keeps no statistics of those expressions (it ignores the expressions of a partial index, and the trigram
  indexes of publicity 0003 are partial), so it guessed 9 matches for 建设工程, which is in 20,123 of the 90,001
  public notices at 1M: it read and sorted all 20,123 through the trigram bitmap (one heap page each: 0.7–1 s)
  instead of walking the newest-first index and stopping at a page. Extended statistics on each expression
  (PostgreSQL 14+) give the planner their most common values and histogram; with a target of 1,000 (300,000 rows
  sampled) its estimates at 1M came within 12 % (建设工程 20,116 for 20,123; 消防站 3,358 for 2,995), at about
  1 ms of planning. The library needs none: its trigram indexes are not partial, so ANALYZE already keeps
  statistics of those expressions (its plans for the same words were the same with and without these).
- **A covering newest-first index of the public notices**, with every column the list shows and the names a
  search filters on in INCLUDE. A common word then walks this index alone (an
  index-only scan: no table page per row) and stops at a page; the public notices are 9 % of the table,
  scattered over all of its pages, so each row read from the table cost a page: 渝中区 page 5 read 3,000 of them
  (128 ms). Not the bigrams of publicity 0009: with the longest names the columns allow (200 + 200 characters)
  they alone take 4.5 kB, and a B-tree entry may not exceed 2,704 bytes (PostgreSQL refuses the row: the notice
  could not start). Nor the document numbers: with them the widest row the columns allow (two names of 200
  four-byte characters and 400 of document numbers: 3.2 kB) would not fit either; without them it is about 1.7 kB.
  So a search of three characters or more, whose filter also asks the document numbers, and a two-character word
  still read the table for each row they walk (as before this migration): what the planner's statistics bought
  (建设工程 983 → 0.3 ms) stays, the index-only walk of a middling word does not. Django cannot write this index on the model (INCLUDE is not
  SQLite's: models.W040), hence raw SQL.

PostgreSQL only; SQLite (the embedded default) has neither statistics of expressions nor INCLUDE: nothing is
created there, and `notice_public_recent` (publicity 0003) still orders its list.
"""

from django.db import migrations

STATISTICS_TARGET = 1000
# (statistics name, table, expression): the expressions exactly as Django's icontains writes them, or the planner
# does not match them.
STATISTICS = [
    ("notice_upper_project_name", "publicity_notice", 'UPPER("project_name"::text)'),
    ("notice_upper_enterprise_name", "publicity_notice", 'UPPER("enterprise_name"::text)'),
]

COVERING_INDEX = "notice_public_recent_cover"
# publicity.selectors.NOTICE_LIST_FIELDS (the key holds starts_at and id). A column added to the list's fields
# belongs here too, or the scan goes back to the table for every row; a long one does not (see above: an entry's
# size limit, which the widest row must fit: tests/test_public_pages.py).
COVERING_COLUMNS = (
    "state",
    "ends_at",
    "remaining_seconds",
    "project_number",
    "project_name",
    "enterprise_name",
    "authority_id",
    "project_type",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, expression in STATISTICS:
        schema_editor.execute(f'CREATE STATISTICS IF NOT EXISTS "{name}" ON ({expression}) FROM "{table}"')
        schema_editor.execute(f'ALTER STATISTICS "{name}" SET STATISTICS {STATISTICS_TARGET}')
    columns = ", ".join(f'"{column}"' for column in COVERING_COLUMNS)
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{COVERING_INDEX}" ON "publicity_notice" ("starts_at" DESC, "id" DESC) '
        f"INCLUDE ({columns}) WHERE state IN ('running', 'paused')"
    )
    # Until the next autovacuum the planner would not know the new statistics (a fresh database: a few rows).
    schema_editor.execute('ANALYZE "publicity_notice"')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{COVERING_INDEX}"')
    for name, _table, _expression in STATISTICS:
        schema_editor.execute(f'DROP STATISTICS IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("publicity", "0009_public_search_bigrams")]

    operations = [migrations.RunPython(create, drop)]
