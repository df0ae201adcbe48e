"""NightlyChunk moves here from kpis with the nightly run: its table stays as it is, so only Django's state changes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='NightlyChunk',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('kpi_slug', models.CharField(max_length=64)),
                        ('done_at', models.DateTimeField(blank=True, help_text='Empty while the chunk is pending.', null=True)),
                    ],
                    options={
                        'db_table': 'kpis_nightlychunk',
                        'ordering': ['day', 'kpi_slug'],
                        'constraints': [models.UniqueConstraint(fields=('day', 'kpi_slug'), name='kpis_nightlychunk_unique_day_kpi')],
                    },
                ),
            ],
        ),
    ]
