"""The audit chains (docs/security.md, "The audit chains"): one chain per project, a few shards for events of no
project, and the global chain, anchored with their heads.

Every event made before this migration stays where it is, on the global chain (0): the new column's default is
written by ALTER TABLE, not by an UPDATE of the rows (which the append-only trigger would refuse), and an event
on the global chain hashes exactly as before, so the existing trail keeps verifying. The one head there was
becomes the global chain's head."""

from django.core.management.color import no_style
from django.db import migrations, models
from django.db.models import F, Q


def global_head(apps, schema_editor):
    head = apps.get_model("projects", "AuditChainHead")
    head.objects.filter(pk=1).update(chain=0)
    # 0002 made that head with an explicit id, which left PostgreSQL's id sequence at 1: the next head would
    # collide with it.
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [head]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("projects", "0018_locked_record_kind")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.BigIntegerField(db_default=0, default=0, verbose_name="链"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["chain", "id"], name="projects_au_chain_c97c55_idx"),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="chain",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(global_head, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditchainhead",
            name="chain",
            field=models.BigIntegerField(unique=True),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="anchored_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditchainhead",
            index=models.Index(
                condition=~Q(last_hash=F("anchored_hash")), fields=["chain"], name="auditchainhead_unanchored"
            ),
        ),
    ]
