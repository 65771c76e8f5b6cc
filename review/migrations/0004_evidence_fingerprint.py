"""Perceptual hashes of evidence images (review.reuse): the table, and the hashes of the images stored before it.

The hashes of existing images are computed here, once, rather than lazily on a review page: a lazy hash would only
exist for records someone had opened, so a re-saved picture in a record nobody opened yet would go unmatched. The
evidence rows themselves are not touched (a locked record's are read-only: projects migration 0005). Backwards, the
table is dropped with its rows.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def fingerprint_existing_images(apps, schema_editor):
    from review.reuse import perceptual_hash_of

    Evidence = apps.get_model("projects", "Evidence")
    EvidenceFingerprint = apps.get_model("review", "EvidenceFingerprint")
    images = Evidence.objects.filter(content_type__startswith="image/").order_by("id")
    for evidence in images.iterator(chunk_size=500):
        try:
            with evidence.file.open("rb") as handle:
                value = perceptual_hash_of(handle)
        except OSError:  # a file missing from the storage: no hash, the SHA-256 still matches
            continue
        if value:
            EvidenceFingerprint.objects.update_or_create(evidence_id=evidence.pk, defaults={"perceptual_hash": value})


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0013_evidence_sha256_index'),
        ('review', '0003_move_corrections_inspections_integrity'),
    ]

    operations = [
        migrations.CreateModel(
            name='EvidenceFingerprint',
            fields=[
                ('evidence', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='fingerprint', serialize=False, to='projects.evidence')),
                ('perceptual_hash', models.CharField(db_index=True, max_length=16, verbose_name='图像感知哈希')),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='计算时间')),
            ],
            options={
                'verbose_name': '证明材料图像指纹',
                'verbose_name_plural': '证明材料图像指纹',
            },
        ),
        migrations.RunPython(fingerprint_existing_images, migrations.RunPython.noop, elidable=True),
    ]
