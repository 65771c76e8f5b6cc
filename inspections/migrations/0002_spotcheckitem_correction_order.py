"""The link between a spot-check item and the correction order sent on its finding now points from the item to
the order (SpotCheckItem.correction_order), so that corrections need not know about spot checks. Every existing
link (review_correctionorder.spot_check_item_id) is carried over here; review's 0003 then drops the old column.
The service refused a second order on one item, so each item has at most one order to carry."""

import django.db.models.deletion
from django.db import migrations, models


def carry_links_forward(apps, schema_editor):
    OldOrder = apps.get_model("review", "CorrectionOrder")
    SpotCheckItem = apps.get_model("inspections", "SpotCheckItem")
    links = OldOrder.objects.filter(spot_check_item__isnull=False).order_by("id").values_list("id", "spot_check_item_id")
    for order_id, item_id in links:
        SpotCheckItem.objects.filter(pk=item_id, correction_order__isnull=True).update(correction_order_id=order_id)


def carry_links_back(apps, schema_editor):
    OldOrder = apps.get_model("review", "CorrectionOrder")
    SpotCheckItem = apps.get_model("inspections", "SpotCheckItem")
    links = SpotCheckItem.objects.filter(correction_order__isnull=False).values_list("id", "correction_order_id")
    for item_id, order_id in links:
        OldOrder.objects.filter(pk=order_id).update(spot_check_item_id=item_id)
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now: the column dropped next is on a table these updates point to, and
        # PostgreSQL refuses to alter a table with pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("corrections", "0001_initial"),
        ("inspections", "0001_initial"),
        ("review", "0002_corrections_spot_checks_integrity"),
    ]

    operations = [
        migrations.AddField(
            model_name="spotcheckitem",
            name="correction_order",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="spot_check_item",
                to="corrections.correctionorder",
                verbose_name="更正通知",
            ),
        ),
        migrations.RunPython(carry_links_forward, carry_links_back),
    ]
