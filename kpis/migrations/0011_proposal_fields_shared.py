"""The proposal fields come from one abstract model (kpis.models.ChangeProposal): related names and help texts only."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0010_definition_bounds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='kpichangeproposal',
            name='applied_history_id',
            field=models.PositiveBigIntegerField(blank=True, help_text='The version the approval wrote.', null=True),
        ),
        migrations.AlterField(
            model_name='kpichangeproposal',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='kpichangeproposal',
            name='base_history_id',
            field=models.PositiveBigIntegerField(help_text='The version the proposal was made against.'),
        ),
        migrations.AlterField(
            model_name='kpichangeproposal',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='%(class)s_decisions', to=settings.AUTH_USER_MODEL),
        ),
    ]
