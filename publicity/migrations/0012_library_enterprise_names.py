"""The library searched by an enterprise's name at a million records (docs/architecture.md, "At national scale"; the
EXPLAIN figures in bench/README.md, notice_pages, "the library's enterprise names").

A word of three characters or more is matched in the entries' enterprise names through the trigram index of
publicity 0003, which must check every trigram of the word: for a whole name such as 重庆南岸龙湖建筑工程有限公司
the common ones (重庆…, …有限公司) point at each of the 830,000 entries, and the index read about 1,000 of its
pages (30–50 ms on a busy machine) for an enterprise of 85 entries. Instead:

- `LibraryEnterpriseName`: every enterprise name an entry bears, once (20,000 at a million records), filled here
  from the existing entries and from now on by publicity.services.mark_delivered with the entry. On PostgreSQL a
  trigram index of its upper-cased names, as Django's icontains compares them: a whole name is looked up in about
  50 index pages.
- `library_enterprise_name` on the entries (enterprise_name, -entered_at, -id): the entries of each name found,
  newest first, read up to the page's end (about 25 pages for page 1).

The trigram index is PostgreSQL's (pg_trgm, publicity 0003); SQLite (the embedded default) gets the table and the
B-tree index, and its search does not read the names (publicity.selectors.library_enterprise_names).
"""

from django.db import migrations, models

TRIGRAM_INDEX = "library_enterprise_name_trgm"


def fill(apps, schema_editor):
    """The names of the entries already entered (20,000 of 830,000 at a million records: under a second)."""
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote('publicity_libraryenterprisename')} ({quote('name')}) "
        f"SELECT DISTINCT {quote('enterprise_name')} FROM {quote('publicity_libraryentry')}"
    )


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{TRIGRAM_INDEX}" ON "publicity_libraryenterprisename" '
        'USING gin (UPPER("name"::text) gin_trgm_ops)'
    )
    # The planner's statistics of the new table and of the upper-cased names (its estimate of how many names a
    # word is in), before the next autovacuum.
    schema_editor.execute('ANALYZE "publicity_libraryenterprisename"')


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{TRIGRAM_INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("publicity", "0011_library_covering_index")]

    operations = [
        migrations.CreateModel(
            name="LibraryEnterpriseName",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True, verbose_name="补录企业")),
            ],
            options={
                "verbose_name": "入库记录的补录企业名称",
                "verbose_name_plural": "入库记录的补录企业名称",
            },
        ),
        migrations.AddIndex(
            model_name="libraryentry",
            index=models.Index(fields=["enterprise_name", "-entered_at", "-id"], name="library_enterprise_name"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
