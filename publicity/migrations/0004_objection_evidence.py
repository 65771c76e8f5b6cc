"""Objection evidence becomes a stored file like every other upload (projects.models.StoredFile,
docs/files.md): a publicity_objectionevidence row per objection that carries a file, every existing one kept.

Each objection with a file gets its row, pointing at the same stored object (nothing is copied or moved):
- content_type: the objection's evidence_content_type (sniffed at upload), else application/octet-stream;
- size and sha256: computed from the stored file; a file missing from storage gets size 0 and an empty sha256,
  so the row still says a file was sent;
- original_name: not kept before, so the name the console served it under: the reference, with the extension
  of the detected type ("YY0123456789.pdf");
- uploaded_at: the objection's submitted_at; uploaded_by: empty (the public has no account).
The objection's own evidence columns stay as they are (the console still reads them).
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
    Objection = apps.get_model("publicity", "Objection")
    ObjectionEvidence = apps.get_model("publicity", "ObjectionEvidence")
    storage = ObjectionEvidence._meta.get_field("file").storage
    for objection in Objection.objects.exclude(evidence="").order_by("pk").iterator():
        name = objection.evidence.name
        size, sha256 = 0, ""
        if storage.exists(name):
            digest = hashlib.sha256()
            with storage.open(name, "rb") as stored:
                for chunk in stored.chunks():
                    digest.update(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
        content_type = objection.evidence_content_type or "application/octet-stream"
        ObjectionEvidence.objects.create(
            objection=objection,
            file=name,
            original_name=objection.reference + EXTENSIONS.get(content_type, ""),
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_at=objection.submitted_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("publicity", "0003_public_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ObjectionEvidence",
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
                    "objection",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evidence_file",
                        to="publicity.objection",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "异议证明材料",
                "verbose_name_plural": "异议证明材料",
                "ordering": ["uploaded_at", "id"],
            },
        ),
        # Reversed by dropping the table above: the objections' own columns were never touched.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
