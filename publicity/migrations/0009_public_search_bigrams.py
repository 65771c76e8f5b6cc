"""Two-character searches of the public pages at a million records (docs/architecture.md, "At national scale").

Most Chinese search words are two characters (地名 such as 鸳鸯, a trade name such as 宏达, 幕墙, 二期), and a
two-character term has no trigram: the trigram indexes of publicity 0003 cannot serve it, and PostgreSQL either read
every public notice (every library entry: 830k at 1M) or walked the newest-first index to the end for a rare word.
On PostgreSQL only, the *bigrams* (every pair of adjacent characters, upper-cased) of the project and enterprise
names in a generated column with a GIN index; publicity.selectors adds `search_bigrams @> ARRAY[term]` to a
two-character search, so a rare word reads its matching rows only, and for a common one (工程) the planner, which
knows how common each bigram is from the column's statistics, still walks the newest-first index and stops at a
page. SQLite (the embedded default) keeps the scan: nothing is created there.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION public_search_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper(value), i, 2)), '{}')
    FROM generate_series(1, length(value) - 1) AS i
$$
"""

# (table, index name, predicate). The bigrams are a stored generated column (computed by PostgreSQL when a row is
# written; Django does not know the column): a search reads them instead of computing them row by row, and ANALYZE
# keeps statistics of the column, so the planner knows 工程 is in most rows and 鸳鸯 in few (it ignores the
# statistics of a partial index's expression).
TABLES = [
    ("publicity_notice", "notice_public_bigrams", "WHERE state IN ('running', 'paused')"),
    ("publicity_libraryentry", "library_bigrams", ""),
]
COLUMN = "search_bigrams"  # publicity.selectors._bigram_filter reads it
EXPRESSION = "public_search_bigrams(project_name::text || ' ' || enterprise_name::text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table, index, predicate in TABLES:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS {COLUMN} text[] GENERATED ALWAYS AS ({EXPRESSION}) STORED'
        )
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" USING gin ({COLUMN}) {predicate}')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index, _predicate in TABLES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS {COLUMN}')
    schema_editor.execute("DROP FUNCTION IF EXISTS public_search_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("publicity", "0008_design_project_types")]

    operations = [migrations.RunPython(create, drop)]
