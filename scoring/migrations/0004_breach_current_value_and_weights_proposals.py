"""
A breach's current value beside its worst; dimension weights change by proposal (four eyes), which KPI approvers
decide and auditors read.
"""
import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from companyos.grants import grants_operation

# Group name -> the scoring permissions this migration gives it. Names are frozen here, as migrations must be.
WEIGHTS_PROPOSAL_PERMISSIONS = {
    "KPI approvers": [
        "view_dimensionweights", "view_historicaldimensionweights", "view_dimensionweightsproposal",
        "change_dimensionweightsproposal",
    ],
    "Auditors": ["view_dimensionweights", "view_historicaldimensionweights", "view_dimensionweightsproposal"],
}


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0009_nightly_chunks_moved_to_pipeline'),
        ('scoring', '0003_tenants_from_tenancy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='breach',
            name='current_at',
            field=models.DateTimeField(blank=True, help_text='When the current value was observed.', null=True),
        ),
        migrations.AddField(
            model_name='breach',
            name='current_value',
            field=models.FloatField(blank=True, help_text='The latest value while open; once closed, the value that closed it.', null=True),
        ),
        migrations.AlterField(
            model_name='breach',
            name='observations',
            field=models.ManyToManyField(help_text='The observations beyond critical while it was open.', related_name='breaches', to='kpis.observation'),
        ),
        migrations.AlterField(
            model_name='breach',
            name='worst_value',
            field=models.FloatField(help_text='The worst value observed while it was open.'),
        ),
        migrations.CreateModel(
            name='DimensionWeightsProposal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField()),
                ('changes', models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ('base_history_id', models.PositiveBigIntegerField(help_text='The version of the weights the proposal was made against.')),
                ('status', models.CharField(choices=[('open', 'Pending approval'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='open', max_length=8)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('decided_at', models.DateTimeField(blank=True, help_text='On approval, when the weights came into force.', null=True)),
                ('decision_comment', models.TextField(blank=True)),
                ('applied_history_id', models.PositiveBigIntegerField(blank=True, help_text='The version of the weights the approval wrote.', null=True)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='weights_proposals', to=settings.AUTH_USER_MODEL)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='weights_proposal_decisions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'dimension weights proposal',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('status',), name='scoring_dimensionweightsproposal_one_open', violation_error_message='A weights proposal is open already; approve or reject it first.'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'open')), models.Q(models.Q(('status', 'open'), _negated=True), ('decided_at__isnull', False), ('decided_by__isnull', False)), _connector='OR'), name='scoring_dimensionweightsproposal_decided_when_closed', violation_error_message='An open proposal has no decision; an approved or rejected one has who and when.')],
            },
        ),
        grants_operation("scoring", WEIGHTS_PROPOSAL_PERMISSIONS),
    ]
