"""Indexes for the public pages at 100k records (bench/notice_pages.py).

- notice_public_recent: the public notice list (running or paused, newest first) read in index order. With
  `state IN (…)` the (state, -starts_at, -id) index cannot give that order, and PostgreSQL sorted every public
  notice on each page.
- On PostgreSQL only, trigram GIN indexes (pg_trgm, a trusted extension) for the search of publicity.selectors:
  the project and enterprise names as Django's `icontains` compares them (UPPER(col::text) LIKE UPPER(…)) and
  the space-separated document numbers (= and LIKE). Every branch of the search's OR is then indexed and the
  search reads the matching rows only, instead of upper-casing every public notice (every library entry: 100k).
  Terms shorter than three characters have no trigram: they still work, as a scan. SQLite (the embedded
  default) keeps the scan.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = [
    # (index name, table, expression, predicate)
    (
        "notice_public_name_trgm",
        "publicity_notice",
        'UPPER("project_name"::text)',
        "state IN ('running', 'paused')",
    ),
    (
        "notice_public_ent_trgm",
        "publicity_notice",
        'UPPER("enterprise_name"::text)',
        "state IN ('running', 'paused')",
    ),
    ("notice_public_docs_trgm", "publicity_notice", '"document_numbers"', "state IN ('running', 'paused')"),
    ("library_name_trgm", "publicity_libraryentry", 'UPPER("project_name"::text)', ""),
    ("library_ent_trgm", "publicity_libraryentry", 'UPPER("enterprise_name"::text)', ""),
    ("library_docs_trgm", "publicity_libraryentry", '"document_numbers"', ""),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression, predicate in TRIGRAM_INDEXES:
        where = f" WHERE {predicate}" if predicate else ""
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops){where}'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression, _predicate in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0007_city_department"),
        ("publicity", "0002_national_version"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notice",
            index=models.Index(
                condition=models.Q(("state__in", ["running", "paused"])),
                fields=["-starts_at", "-id"],
                name="notice_public_recent",
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
