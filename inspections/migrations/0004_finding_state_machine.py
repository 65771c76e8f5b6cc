"""A spot-check item's finding becomes a protected state machine (django-fsm-2): the column is unchanged."""

import django_fsm
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0003_finding_evidence"),
    ]

    operations = [
        migrations.AlterField(
            model_name="spotcheckitem",
            name="finding",
            field=django_fsm.FSMField(
                choices=[
                    ("pending", "待核查"),
                    ("correct", "信息正确"),
                    ("error", "信息有误"),
                    ("false_information", "信息虚假"),
                ],
                default="pending",
                max_length=20,
                protected=True,
                verbose_name="核查结论",
            ),
        ),
    ]
