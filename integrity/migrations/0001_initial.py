"""The integrity models, moved from the review app with their tables (review_blacklisting,
review_integritydeduction): state only."""

import django.db.models.deletion
import django.utils.timezone
import projects.validators
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('review', '0002_corrections_spot_checks_integrity'),
        ('inspections', '0001_initial'),
        ('projects', '0008_project_name_trigram'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist (review's migrations created them): only the state moves here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Blacklisting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', models.TextField(validators=[projects.validators.validate_plain_text], verbose_name='列入原因')),
                        ('starts_on', models.DateField(verbose_name='列入日期')),
                        ('ends_on', models.DateField(verbose_name='届满日期')),
                        ('listed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                        ('lifted_at', models.DateTimeField(blank=True, null=True, verbose_name='提前移出时间')),
                        ('lift_reason', models.TextField(blank=True, validators=[projects.validators.validate_plain_text], verbose_name='移出原因')),
                        ('enterprise', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='blacklistings', to='projects.enterprise')),
                        ('lifted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('listed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('source_item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='blacklistings', to='inspections.spotcheckitem', verbose_name='依据的抽查结论')),
                    ],
                    options={
                        'verbose_name': '黑名单',
                        'verbose_name_plural': '黑名单',
                        'db_table': 'review_blacklisting',
                        'ordering': ['-starts_on', '-id'],
                        'indexes': [models.Index(fields=['enterprise', 'ends_on'], name='review_blac_enterpr_5bba66_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='blacklisting_dates_in_order')],
                    },
                ),
                migrations.CreateModel(
                    name='IntegrityDeduction',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('points', models.DecimalField(decimal_places=1, max_digits=5, verbose_name='扣分')),
                        ('reason', models.TextField(validators=[projects.validators.validate_plain_text], verbose_name='扣分原因')),
                        ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                        ('enterprise', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integrity_deductions', to='projects.enterprise')),
                        ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('source_item', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='deductions', to='inspections.spotcheckitem')),
                    ],
                    options={
                        'verbose_name': '诚信扣分',
                        'verbose_name_plural': '诚信扣分',
                        'db_table': 'review_integritydeduction',
                        'ordering': ['-recorded_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('points__gt', 0)), name='deduction_points_positive')],
                    },
                ),
            ],
        ),
    ]
