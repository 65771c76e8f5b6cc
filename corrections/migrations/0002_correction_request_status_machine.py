"""CorrectionRequest.status becomes a protected django-fsm field (docs/corrections.md): the same column, values and
length. PostgreSQL changes nothing; SQLite rebuilds the table, copying its rows."""


import django_fsm
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('corrections', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='correctionrequest',
            name='status',
            field=django_fsm.FSMField(choices=[('filed', '待区县核查'), ('district_declined', '区县不予更正'), ('at_city', '待市审批服务中心审定'), ('city_declined', '市级不予更正'), ('approved', '已批准更正'), ('withdrawn', '企业已撤回')], default='filed', max_length=20, protected=True, verbose_name='状态'),
        ),
    ]
