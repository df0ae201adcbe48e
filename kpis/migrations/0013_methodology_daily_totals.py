import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("kpis", "0012_slo_and_dated_targets"), ("tenancy", "0005_staff_status_of_admin_roles")]

    operations = [
        migrations.CreateModel(
            name='AlertDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('raw_alerts', models.BigIntegerField()),
                ('uncorrelated_alerts', models.BigIntegerField()),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'indexes': [models.Index(fields=['company', 'day'], name='kpis_alertd_company_976dfc_idx')],
            },
        ),
        migrations.CreateModel(
            name='DailyTotalsDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('refreshed_at', models.DateTimeField()),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('company', 'day'), name='kpis_dailytotalsday_unique_company_day')],
            },
        ),
        migrations.CreateModel(
            name='IncidentsCreatedDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('previous_day', models.DateField(null=True)),
                ('incidents', models.BigIntegerField()),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'indexes': [models.Index(fields=['company', 'day'], name='kpis_incide_company_403394_idx')],
            },
        ),
        migrations.CreateModel(
            name='ResolvedDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('manual_incidents', models.BigIntegerField()),
                ('automated_incidents', models.BigIntegerField()),
                ('total_incidents', models.BigIntegerField()),
                ('manual_minutes', models.FloatField(null=True)),
                ('automated_minutes', models.FloatField(null=True)),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'indexes': [models.Index(fields=['company', 'day'], name='kpis_resolv_company_d63bad_idx')],
            },
        ),
        migrations.CreateModel(
            name='ResolvedSignatureDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('runbook_id', models.CharField(max_length=200)),
                ('signature', models.CharField(max_length=200, null=True)),
                ('automated', models.BooleanField()),
                ('incidents', models.BigIntegerField()),
                ('minutes', models.FloatField(null=True)),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'indexes': [models.Index(fields=['company', 'day'], name='kpis_resolv_company_cef521_idx')],
            },
        ),
        migrations.CreateModel(
            name='RunbookRunDayTotals',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('runbook_id', models.CharField(max_length=200)),
                ('executions', models.BigIntegerField()),
                ('successful_executions', models.BigIntegerField()),
                ('finished_executions', models.BigIntegerField()),
                ('execution_seconds', models.FloatField(null=True)),
                ('company', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'indexes': [models.Index(fields=['company', 'day'], name='kpis_runboo_company_7fb3e2_idx')],
            },
        ),
    ]
