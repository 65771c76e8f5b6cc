"""The audit chain's head row, and on PostgreSQL a trigger that makes the audit table append-only."""

from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION projects_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: %% refused on projects_auditevent', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER projects_auditevent_append_only
    BEFORE UPDATE OR DELETE ON projects_auditevent
    FOR EACH ROW EXECUTE FUNCTION projects_auditevent_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS projects_auditevent_append_only ON projects_auditevent;
DROP FUNCTION IF EXISTS projects_auditevent_append_only();
"""


def create_head(apps, schema_editor):
    apps.get_model("projects", "AuditChainHead").objects.get_or_create(pk=1)


def append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(append_only_trigger, drop_trigger),
    ]
