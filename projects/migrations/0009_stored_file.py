"""Evidence inherits the abstract StoredFile (projects/models.py, docs/files.md).

Every column StoredFile names already existed on projects_evidence, under the same names: no column is added,
no value changed. What changes is Django's state only: no SQL on PostgreSQL; SQLite's schema editor rebuilds the
table for the `file` change, copying every row as it is. The changes:
- `file` stores through StoredFile's upload_to, which asks the row for its path (Evidence.storage_path gives
  the same path as before);
- `uploaded_at` has a default of now, as every stored file's does, instead of auto_now_add.
"""

import django.utils.timezone
from django.db import migrations, models

import projects.models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0008_project_name_trigram"),
    ]

    operations = [
        migrations.AlterField(
            model_name="evidence",
            name="file",
            field=models.FileField(
                max_length=300,
                storage=projects.models.private_storage,
                upload_to=projects.models.stored_file_upload_to,
                verbose_name="文件",
            ),
        ),
        migrations.AlterField(
            model_name="evidence",
            name="uploaded_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="上传时间"),
        ),
    ]
