"""On PostgreSQL, a locked record's kind (construction or design, docs/design-projects.md) is content too: the
trigger function of 0005 compares it with the other content columns (Project.CONTENT_FIELDS)."""

from django.db import migrations

from . import _locked_record_columns as columns

FUNCTION = """
CREATE OR REPLACE FUNCTION projects_refuse_locked_project() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'projects are never deleted: DELETE of record %% refused', OLD.id;
    END IF;
    IF OLD.status NOT IN ('draft', 'returned')
       AND {old} IS DISTINCT FROM {new} THEN
        RAISE EXCEPTION 'record %% is locked (status %%): its content cannot change', OLD.id, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def function_of(column_names):
    def row(alias):
        return "ROW(" + ", ".join(f"{alias}.{column}" for column in column_names) + ")"

    return FUNCTION.format(old=row("OLD"), new=row("NEW"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(function_of([*columns.BEFORE_KIND, "kind"]))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(function_of(columns.BEFORE_KIND))


class Migration(migrations.Migration):
    dependencies = [("projects", "0017_design_projects")]

    operations = [migrations.RunPython(forwards, backwards)]
