"""Change proposals awaiting a second person's approval, and the KPI approvers group that decides them."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Group name -> the kpis permissions this migration gives it. Names are frozen here, as migrations must be.
PROPOSAL_PERMISSIONS = {
    "KPI approvers": ["view_kpidefinition", "view_historicalkpidefinition", "view_kpichangeproposal", "change_kpichangeproposal"],
    "KPI owners": ["view_kpichangeproposal"],
    "Auditors": ["view_kpichangeproposal"],
}


def grant_proposal_permissions(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    kpis_config = apps.get_app_config("kpis")
    kpis_config.models_module = True
    create_permissions(kpis_config, apps=apps, verbosity=0)
    kpis_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in PROPOSAL_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="kpis", codename__in=codenames))


def revoke_proposal_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="KPI approvers").delete()
    Permission = apps.get_model("auth", "Permission")
    proposal_permissions = Permission.objects.filter(content_type__app_label="kpis", codename__endswith="kpichangeproposal")
    for group in Group.objects.filter(name__in=PROPOSAL_PERMISSIONS):
        group.permissions.remove(*proposal_permissions)


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0003_persona_and_data_source_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='KpiChangeProposal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField()),
                ('changes', models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ('base_history_id', models.PositiveBigIntegerField(help_text='The version of the definition the proposal was made against.')),
                ('status', models.CharField(choices=[('open', 'Pending approval'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='open', max_length=8)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('decided_at', models.DateTimeField(blank=True, help_text='On approval, when the change came into force.', null=True)),
                ('decision_comment', models.TextField(blank=True)),
                ('emergency_reason', models.TextField(blank=True, help_text='Why a superuser approved their own proposal.')),
                ('applied_history_id', models.PositiveBigIntegerField(blank=True, help_text='The version of the definition the approval wrote.', null=True)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='kpi_proposals', to=settings.AUTH_USER_MODEL)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='kpi_proposal_decisions', to=settings.AUTH_USER_MODEL)),
                ('kpi', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='proposals', to='kpis.kpidefinition')),
            ],
            options={
                'verbose_name': 'KPI change proposal',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('kpi',), name='kpis_kpichangeproposal_one_open_per_kpi', violation_error_message='This definition already has an open proposal; approve or reject it first.'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'open')), models.Q(models.Q(('status', 'open'), _negated=True), ('decided_at__isnull', False), ('decided_by__isnull', False)), _connector='OR'), name='kpis_kpichangeproposal_decided_when_closed', violation_error_message='An open proposal has no decision; an approved or rejected one has who and when.')],
            },
        ),
        migrations.RunPython(grant_proposal_permissions, revoke_proposal_permissions),
    ]
