"""Spot-check finding evidence becomes a stored file like every other upload (projects.models.StoredFile,
docs/files.md): an inspections_findingevidence row per item that carries a file, every existing one kept.

Each item with a file gets its row, pointing at the same stored object (nothing is copied or moved):
- content_type: the item's evidence_content_type (sniffed at upload), else application/octet-stream;
- size and sha256: computed from the stored file; a file missing from storage gets size 0 and an empty sha256,
  so the row still says a file was sent;
- original_name: not kept before, so the name the console served it under, with the extension of the detected
  type ("spot-check-12.pdf");
- uploaded_by and uploaded_at: who recorded the finding and when (the campaign's creator, and now, for an item
  without them, which a finding with a file never is).
The item's own evidence columns stay as they are.
"""

import hashlib

import django.db.models.deletion
import django.utils.timezone
import projects.models
import projects.validators
from django.conf import settings
from django.db import migrations, models


EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def backfill(apps, schema_editor):
    SpotCheckItem = apps.get_model("inspections", "SpotCheckItem")
    FindingEvidence = apps.get_model("inspections", "FindingEvidence")
    storage = FindingEvidence._meta.get_field("file").storage
    items = SpotCheckItem.objects.exclude(evidence="").select_related("campaign").order_by("pk")
    for item in items.iterator():
        name = item.evidence.name
        size, sha256 = 0, ""
        if storage.exists(name):
            digest = hashlib.sha256()
            with storage.open(name, "rb") as stored:
                for chunk in stored.chunks():
                    digest.update(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
        content_type = item.evidence_content_type or "application/octet-stream"
        FindingEvidence.objects.create(
            item=item,
            file=name,
            original_name=f"spot-check-{item.pk}" + EXTENSIONS.get(content_type, ""),
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_by_id=item.checked_by_id or item.campaign.created_by_id,
            uploaded_at=item.checked_at or django.utils.timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0002_spotcheckitem_correction_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FindingEvidence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=300,
                        storage=projects.models.private_storage,
                        upload_to=projects.models.stored_file_upload_to,
                        verbose_name="文件",
                    ),
                ),
                (
                    "original_name",
                    models.CharField(
                        max_length=255,
                        validators=[projects.validators.validate_plain_text],
                        verbose_name="原文件名",
                    ),
                ),
                ("content_type", models.CharField(max_length=50, verbose_name="文件类型")),
                ("size", models.PositiveBigIntegerField(verbose_name="大小（字节）")),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                (
                    "uploaded_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="上传时间"),
                ),
                ("archived_at", models.DateTimeField(blank=True, null=True, verbose_name="删除时间")),
                (
                    "archive_reason",
                    models.CharField(
                        blank=True,
                        max_length=200,
                        validators=[projects.validators.validate_plain_text],
                        verbose_name="删除原因",
                    ),
                ),
                (
                    "archived_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evidence_file",
                        to="inspections.spotcheckitem",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "核查材料",
                "verbose_name_plural": "核查材料",
                "ordering": ["uploaded_at", "id"],
            },
        ),
        # Reversed by dropping the table above: the items' own columns were never touched.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
