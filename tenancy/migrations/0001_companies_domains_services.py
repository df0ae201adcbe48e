"""Company, Domain and Service move here from incidents: their tables stay as they are, so only Django's state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Company',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(help_text='e.g. comp-acme', max_length=64, unique=True)),
                        ('name', models.CharField(max_length=200)),
                    ],
                    options={
                        'verbose_name_plural': 'companies',
                        'db_table': 'incidents_company',
                        'ordering': ['slug'],
                    },
                ),
                migrations.CreateModel(
                    name='Domain',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(max_length=64)),
                        ('name', models.CharField(max_length=200)),
                        ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='domains', to='tenancy.company')),
                    ],
                    options={
                        'db_table': 'incidents_domain',
                        'ordering': ['company__slug', 'slug'],
                    },
                ),
                migrations.CreateModel(
                    name='Service',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(max_length=64)),
                        ('name', models.CharField(max_length=200)),
                        ('domain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='services', to='tenancy.domain')),
                    ],
                    options={
                        'db_table': 'incidents_service',
                        'ordering': ['domain__company__slug', 'domain__slug', 'slug'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='domain',
                    constraint=models.UniqueConstraint(fields=('company', 'slug'), name='incidents_domain_unique_slug'),
                ),
                migrations.AddConstraint(
                    model_name='service',
                    constraint=models.UniqueConstraint(fields=('domain', 'slug'), name='incidents_service_unique_slug'),
                ),
            ],
        ),
    ]
