"""Two changes of the same work: the 受理回执 (Receipt) of each submission, and 联合体成员 as structured name + credit-code pairs (a JSON list), converted from the free text of before: each
line "单位名称 统一社会信用代码" (projects.identifiers.parse_joint_venture_members)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import projects.validators


def locked_rows_too(schema_editor, convert):
    """The same members written another way, locked records included: on PostgreSQL the locked-record trigger
    (migration 0005) is set aside for this table while the rows are converted, and only then."""
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER TABLE projects_contractstage DISABLE TRIGGER USER")
    convert()
    if postgresql:
        schema_editor.execute("ALTER TABLE projects_contractstage ENABLE TRIGGER USER")


def text_to_members(apps, schema_editor):
    from projects.identifiers import parse_joint_venture_members

    ContractStage = apps.get_model("projects", "ContractStage")

    def convert():
        for stage in ContractStage.objects.exclude(joint_venture_members="").only("pk", "joint_venture_members"):
            ContractStage.objects.filter(pk=stage.pk).update(
                joint_venture_members_list=parse_joint_venture_members(stage.joint_venture_members)
            )

    locked_rows_too(schema_editor, convert)


def members_to_text(apps, schema_editor):
    from projects.identifiers import format_joint_venture_members

    ContractStage = apps.get_model("projects", "ContractStage")

    def convert():
        for stage in ContractStage.objects.only("pk", "joint_venture_members_list"):
            if stage.joint_venture_members_list:
                ContractStage.objects.filter(pk=stage.pk).update(
                    joint_venture_members=format_joint_venture_members(stage.joint_venture_members_list)
                )

    locked_rows_too(schema_editor, convert)


class Migration(migrations.Migration):
    dependencies = [("projects", "0011_administrator_set_password")]


    operations = [
        migrations.AddField(
            model_name="contractstage",
            name="joint_venture_members_list",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(text_to_members, members_to_text),
        migrations.RemoveField(model_name="contractstage", name="joint_venture_members"),
        migrations.RenameField(
            model_name="contractstage", old_name="joint_venture_members_list", new_name="joint_venture_members"
        ),
        migrations.AlterField(
            model_name="contractstage",
            name="joint_venture_members",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="每行一个：单位名称 统一社会信用代码",
                validators=[projects.validators.validate_joint_venture_members],
                verbose_name="联合体成员",
            ),
        ),
        migrations.CreateModel(
            name='Receipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=30, unique=True, verbose_name='受理编号')),
                ('token', models.CharField(max_length=32, unique=True, verbose_name='核验码')),
                ('content', models.JSONField(verbose_name='回执内容')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                ('issued_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='出具时间')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='projects.project')),
                ('version', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='receipt', to='projects.submissionversion')),
            ],
            options={
                'verbose_name': '受理回执',
                'verbose_name_plural': '受理回执',
                'ordering': ['-issued_at', '-id'],
            },
        ),
    ]
