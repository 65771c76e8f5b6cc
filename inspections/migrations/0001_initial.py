"""The spot-check models, moved from the review app with their tables (review_spotcheck*): state only. The link
to a correction order is added in 0002, which carries the existing links over."""

import django.db.models.deletion
import django.utils.timezone
import inspections.models
import projects.models
import projects.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('review', '0002_corrections_spot_checks_integrity'),
        ('projects', '0008_project_name_trigram'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist (review's migrations created them): only the state moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SpotCheckCampaign',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, validators=[projects.validators.validate_plain_text], verbose_name='抽查名称')),
                        ('stages', models.JSONField(default=list, verbose_name='抽查环节')),
                        ('period_start', models.DateField(verbose_name='入库起始日期')),
                        ('period_end', models.DateField(verbose_name='入库截止日期')),
                        ('sample_rate', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='抽查比例（%）')),
                        ('sample_size', models.PositiveIntegerField(blank=True, null=True, verbose_name='抽查数量')),
                        ('seed', models.BigIntegerField(blank=True, null=True, verbose_name='随机种子')),
                        ('population_size', models.PositiveIntegerField(blank=True, null=True, verbose_name='符合条件的记录数')),
                        ('drawn_at', models.DateTimeField(blank=True, null=True, verbose_name='抽取时间')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='创建时间')),
                        ('authorities', models.ManyToManyField(related_name='+', to='projects.authority', verbose_name='抽查区县')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('drawn_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': '抽查任务',
                        'verbose_name_plural': '抽查任务',
                        'db_table': 'review_spotcheckcampaign',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='SpotCheckItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('stage', models.CharField(choices=[('registration', '项目报建'), ('tendering', '项目招投标'), ('contract', '合同备案'), ('drawing_review', '施工图审查'), ('permit', '施工许可'), ('completion', '竣工验收备案')], max_length=20, verbose_name='环节')),
                        ('department', models.CharField(choices=[('construction_management', '市城乡建委建管处'), ('design', '市城乡建委设计处'), ('tendering_office', '市招标办'), ('quality_station', '市质监总站'), ('approval_center', '市审批服务中心')], max_length=30, verbose_name='核查部门')),
                        ('finding', models.CharField(choices=[('pending', '待核查'), ('correct', '信息正确'), ('error', '信息有误'), ('false_information', '信息虚假')], default='pending', max_length=20, verbose_name='核查结论')),
                        ('notes', models.TextField(blank=True, validators=[projects.validators.validate_plain_text], verbose_name='核查说明')),
                        ('evidence', models.FileField(blank=True, max_length=300, storage=projects.models.private_storage, upload_to=inspections.models.spot_check_upload_to, verbose_name='核查材料')),
                        ('evidence_content_type', models.CharField(blank=True, max_length=50)),
                        ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='核查时间')),
                        ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='items', to='inspections.spotcheckcampaign')),
                        ('checked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='spot_check_items', to='projects.project')),
                    ],
                    options={
                        'verbose_name': '抽查事项',
                        'verbose_name_plural': '抽查事项',
                        'db_table': 'review_spotcheckitem',
                        'ordering': ['campaign', 'id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='spotcheckcampaign',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('sample_rate__isnull', False), ('sample_size__isnull', True)), models.Q(('sample_rate__isnull', True), ('sample_size__isnull', False)), _connector='OR'), name='campaign_rate_or_size'),
                ),
                migrations.AddIndex(
                    model_name='spotcheckitem',
                    index=models.Index(fields=['department', 'finding'], name='review_spot_departm_b8f32a_idx'),
                ),
                migrations.AddConstraint(
                    model_name='spotcheckitem',
                    constraint=models.UniqueConstraint(fields=('campaign', 'project', 'stage'), name='spot_check_item_unique'),
                ),
            ],
        ),
    ]
