"""Corrections, spot checks and integrity moved to their own apps (corrections, inspections, integrity), keeping
their tables. The link from a correction order to a spot-check item was carried over to the item by
inspections' 0002; its old column is dropped here, then the models leave review's state (the tables stay)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_corrections_spot_checks_integrity"),
        ("corrections", "0001_initial"),
        ("inspections", "0002_spotcheckitem_correction_order"),
        ("integrity", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="correctionorder", name="spot_check_item"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Blacklisting"),
                migrations.DeleteModel(name="IntegrityDeduction"),
                migrations.DeleteModel(name="CorrectionEvidence"),
                migrations.DeleteModel(name="CorrectionItem"),
                migrations.DeleteModel(name="CorrectionRequest"),
                migrations.DeleteModel(name="CorrectionOrder"),
                migrations.DeleteModel(name="SpotCheckItem"),
                migrations.DeleteModel(name="SpotCheckCampaign"),
            ],
        ),
    ]
