"""A trigram index for the review console's search at 100k records (bench/console_list.py).

review.selectors.search_filter matches the project name as Django's `icontains` compares it
(UPPER("name"::text) LIKE UPPER('%…%')), the project number by prefix (the varchar_pattern_ops index Django made for
the unique column) and the exact matches (credit code, stage document numbers) as id lists. With this index every
branch of that OR is indexed and PostgreSQL combines them (BitmapOr) instead of upper-casing every record: the
city's search of 100k records went from 43 ms to 8 ms a query. PostgreSQL only (pg_trgm, a trusted extension, also
used by publicity/0003); SQLite (the embedded default) keeps the scan.
"""

from django.db import migrations

INDEX = "project_name_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "projects_project" USING gin (UPPER("name"::text) gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("projects", "0007_city_department")]

    operations = [migrations.RunPython(create_index, drop_index)]
