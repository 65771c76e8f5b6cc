"""Give every record seeded by bench/seed_records.py its six stage rows, so that a stage table holds as many rows as
the project table and the uniqueness checks of the import and of a submission (one document number per stage
across projects) are measured at that size, not against empty tables (the seed writes projects, snapshots,
notices and library entries only).

    .venv/bin/python bench/seed_stages.py --database-url postgres://postgres@127.0.0.1:5432/YOUR_COPY

PostgreSQL only; for a copy of your own (it writes a million rows per stage table: about 3 GB at 1,000,000
records). One INSERT … SELECT per stage table over the seeded projects that have no row of that stage yet (a
rerun adds nothing). The document number of each stage is "<stage>-<project number>" (never one the builders or a
clerk write), the permit's number repeated on the completion filing and the drawing review's certificate on the
permit, as a clean record has them; every other text is empty and every date, amount and count absent.
Triggers are off for this session only (session_replication_role = replica): the lock trigger refuses stage rows
of records in the national library, which is what most seeded records are.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_records import MARK, setup_django  # noqa: E402 (after the path)

# The document numbers a clean record repeats on a later stage: (stage, field) -> the stage whose number it is.
REPEATED = {
    ("permit", "drawing_review_certificate_number"): "drawing_review",
    ("completion", "permit_number"): "permit",
}


def column_value(model, field) -> str | None:
    """The SQL expression of `field` for the seeded project `p`, or None for a column left to NULL."""
    if field.primary_key:
        return None
    if field.attname == "project_id":
        return "p.id"
    if field.attname == "updated_by_id":
        return "p.created_by_id"
    if field.attname == "updated_at":
        return "now()"
    if field.attname == model.document_field:
        return f"'{model.code}-' || p.project_number"
    if (model.code, field.attname) in REPEATED:
        return f"'{REPEATED[model.code, field.attname]}-' || p.project_number"
    if field.null:
        return None
    if field.get_internal_type() == "JSONField":
        return f"'{json.dumps(field.get_default())}'::jsonb"
    if field.get_internal_type() in ("CharField", "TextField"):
        return "''"
    raise SystemExit(f"no seed value for {model.__name__}.{field.attname}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    options = parser.parse_args()
    setup_django(options.database_url, tempfile.mkdtemp(prefix="bench-seed-stages-"))
    from django.db import connection, transaction

    from projects.models import STAGE_MODELS

    for code, model in STAGE_MODELS.items():
        columns, values = [], []
        for field in model._meta.concrete_fields:
            value = column_value(model, field)
            if value is not None:
                columns.append(f'"{field.column}"')
                values.append(value)
        table = model._meta.db_table
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                f"FROM projects_project p WHERE p.name LIKE %s "
                f"AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.project_id = p.id)",
                ["%" + MARK],
            )
            added = cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
        print(f"{code}: +{added} rows in {time.monotonic() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
