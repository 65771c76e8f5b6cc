"""CorrectionEvidence becomes a projects.models.StoredFile (docs/files.md): the archive columns are added (empty on
every existing row, which stays active) and the file's path is named by storage_path (the same path as before).
The table and its rows are kept; SQLite rebuilds it, copying the rows."""

import django.db.models.deletion
import projects.models
import projects.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('corrections', '0002_correction_request_status_machine'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='correctionevidence',
            name='archive_reason',
            field=models.CharField(blank=True, max_length=200, validators=[projects.validators.validate_plain_text], verbose_name='删除原因'),
        ),
        migrations.AddField(
            model_name='correctionevidence',
            name='archived_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='删除时间'),
        ),
        migrations.AddField(
            model_name='correctionevidence',
            name='archived_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='correctionevidence',
            name='file',
            field=models.FileField(max_length=300, storage=projects.models.private_storage, upload_to=projects.models.stored_file_upload_to, verbose_name='文件'),
        ),
    ]
