"""On PostgreSQL, the database itself refuses changes to a locked record's content: stages and evidence only
while the project is a draft or returned, and a submitted/noticed/entered project's own content never. This is
the line that raw SQL, bulk updates and shell helpers cannot cross (the model guards hold it on SQLite)."""

from django.db import migrations

STAGE_TABLES = [
    "projects_registrationstage",
    "projects_tenderingstage",
    "projects_contractstage",
    "projects_drawingreviewstage",
    "projects_permitstage",
    "projects_completionstage",
    "projects_evidence",
]

# Project.CONTENT_FIELDS, as columns.
CONTENT_COLUMNS = [
    "enterprise_id", "authority_id", "project_number", "county_code", "name", "address", "project_type",
    "is_classified", "is_completed", "start_basis", "already_in_national_library", "total_investment",
    "total_area",
]


def row(alias):
    return "ROW(" + ", ".join(f"{alias}.{column}" for column in CONTENT_COLUMNS) + ")"


FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION projects_refuse_locked_stage() RETURNS trigger AS $$
DECLARE
    pid bigint;
    current_status varchar;
BEGIN
    IF TG_OP = 'DELETE' THEN pid := OLD.project_id; ELSE pid := NEW.project_id; END IF;
    SELECT status INTO current_status FROM projects_project WHERE id = pid;
    IF current_status IS NOT NULL AND current_status NOT IN ('draft', 'returned') THEN
        RAISE EXCEPTION 'record % is locked (status %): % on % refused', pid, current_status, TG_OP, TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION projects_refuse_locked_project() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'projects are never deleted: DELETE of record % refused', OLD.id;
    END IF;
    IF OLD.status NOT IN ('draft', 'returned')
       AND {row("OLD")} IS DISTINCT FROM {row("NEW")} THEN
        RAISE EXCEPTION 'record % is locked (status %): its content cannot change', OLD.id, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS.replace("%", "%%"))
    for table in STAGE_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_locked BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION projects_refuse_locked_stage();"
        )
    schema_editor.execute(
        "CREATE TRIGGER projects_project_locked BEFORE UPDATE OR DELETE ON projects_project "
        "FOR EACH ROW EXECUTE FUNCTION projects_refuse_locked_project();"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in STAGE_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_locked ON {table};")
    schema_editor.execute("DROP TRIGGER IF EXISTS projects_project_locked ON projects_project;")
    schema_editor.execute("DROP FUNCTION IF EXISTS projects_refuse_locked_stage();")
    schema_editor.execute("DROP FUNCTION IF EXISTS projects_refuse_locked_project();")


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_lifecycle_versions_comments_inbox")]

    operations = [migrations.RunPython(create, drop)]
