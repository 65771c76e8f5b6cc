"""The correction models, moved from the review app with their tables (review_correction*): state only."""

import corrections.models
import django.db.models.deletion
import django.utils.timezone
import projects.models
import projects.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('review', '0002_corrections_spot_checks_integrity'),
        ('projects', '0008_project_name_trigram'),
        ('publicity', '0003_public_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist (review's migrations created them): only the state moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CorrectionOrder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('finding', models.TextField(validators=[projects.validators.validate_plain_text], verbose_name='发现的问题')),
                        ('issuer_name', models.CharField(max_length=200, verbose_name='通知单位')),
                        ('issued_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='通知时间')),
                        ('due_on', models.DateField(verbose_name='应答期限')),
                        ('issued_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='correction_orders', to='projects.project')),
                    ],
                    options={
                        'verbose_name': '更正通知',
                        'verbose_name_plural': '更正通知',
                        'db_table': 'review_correctionorder',
                        'ordering': ['-issued_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='CorrectionRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reference', models.CharField(default=corrections.models.correction_reference, max_length=20, unique=True, verbose_name='申请编号')),
                        ('statement', models.TextField(max_length=5000, validators=[projects.validators.validate_plain_text], verbose_name='更正申请说明')),
                        ('status', models.CharField(choices=[('filed', '待区县核查'), ('district_declined', '区县不予更正'), ('at_city', '待市审批服务中心审定'), ('city_declined', '市级不予更正'), ('approved', '已批准更正'), ('withdrawn', '企业已撤回')], default='filed', max_length=20, verbose_name='状态')),
                        ('filed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='申请时间')),
                        ('district_accepts', models.BooleanField(blank=True, null=True, verbose_name='区县意见：同意更正')),
                        ('district_opinion', models.TextField(blank=True, validators=[projects.validators.validate_plain_text], verbose_name='区县更正意见')),
                        ('district_at', models.DateTimeField(blank=True, null=True, verbose_name='区县核查时间')),
                        ('city_approves', models.BooleanField(blank=True, null=True, verbose_name='市级审定：批准更正')),
                        ('city_opinion', models.TextField(blank=True, validators=[projects.validators.validate_plain_text], verbose_name='市级审定意见')),
                        ('city_at', models.DateTimeField(blank=True, null=True, verbose_name='市级审定时间')),
                        ('base_snapshot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='publicity.snapshot')),
                        ('city_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('district_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('filed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='corrections.correctionorder')),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='correction_requests', to='projects.project')),
                        ('result_snapshot', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='publicity.snapshot')),
                    ],
                    options={
                        'verbose_name': '更正申请',
                        'verbose_name_plural': '更正申请',
                        'db_table': 'review_correctionrequest',
                        'ordering': ['-filed_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='CorrectionItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('stage', models.CharField(blank=True, help_text='空：项目基本信息', max_length=20, verbose_name='环节')),
                        ('field_name', models.CharField(max_length=60, verbose_name='字段')),
                        ('current_value', models.TextField(blank=True, verbose_name='原内容')),
                        ('proposed_value', models.TextField(validators=[projects.validators.validate_plain_text], verbose_name='更正为')),
                        ('reason', models.TextField(validators=[projects.validators.validate_plain_text], verbose_name='错误原因')),
                        ('request', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='corrections.correctionrequest')),
                    ],
                    options={
                        'verbose_name': '更正事项',
                        'verbose_name_plural': '更正事项',
                        'db_table': 'review_correctionitem',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='CorrectionEvidence',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file', models.FileField(max_length=300, storage=projects.models.private_storage, upload_to=corrections.models.correction_upload_to, verbose_name='文件')),
                        ('original_name', models.CharField(max_length=255, validators=[projects.validators.validate_plain_text], verbose_name='原文件名')),
                        ('content_type', models.CharField(max_length=50, verbose_name='文件类型')),
                        ('size', models.PositiveBigIntegerField(verbose_name='大小（字节）')),
                        ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                        ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='上传时间')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('request', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='evidence', to='corrections.correctionrequest')),
                    ],
                    options={
                        'verbose_name': '更正证明材料',
                        'verbose_name_plural': '更正证明材料',
                        'db_table': 'review_correctionevidence',
                        'ordering': ['uploaded_at', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='correctionorder',
                    index=models.Index(fields=['due_on'], name='review_corr_due_on_05ec83_idx'),
                ),
                migrations.AddIndex(
                    model_name='correctionrequest',
                    index=models.Index(fields=['status', '-filed_at'], name='review_corr_status_1ba59f_idx'),
                ),
                migrations.AddConstraint(
                    model_name='correctionrequest',
                    constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['filed', 'at_city'])), fields=('project',), name='one_open_correction_per_project'),
                ),
                migrations.AddConstraint(
                    model_name='correctionitem',
                    constraint=models.UniqueConstraint(fields=('request', 'stage', 'field_name'), name='correction_item_unique'),
                ),
            ],
        ),
    ]
