"""The seed's dimension weights: reliability 25, security 25, product adoption 20, financials 15, efficiency 15."""
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

SEED_WEIGHTS = {
    "reliability": Decimal(25),
    "security": Decimal(25),
    "product_adoption": Decimal(20),
    "financials": Decimal(15),
    "efficiency": Decimal(15),
}
REASON = "Initial weights from the CompanyOS KPI & Health Model"


def create_seed_weights(apps, schema_editor):
    weights_model = apps.get_model("scoring", "DimensionWeights")
    history_model = apps.get_model("scoring", "HistoricalDimensionWeights")
    if weights_model.objects.exists():
        return
    weights_model.objects.create(id=1, **SEED_WEIGHTS)
    # Historical models in migrations record no history themselves; point-in-time scoring needs this first row.
    history_model.objects.create(
        id=1,
        history_date=timezone.now(),
        history_type="+",
        history_change_reason=REASON,
        **SEED_WEIGHTS,
    )


def remove_seed_weights(apps, schema_editor):
    apps.get_model("scoring", "HistoricalDimensionWeights").objects.filter(id=1, history_change_reason=REASON).delete()
    apps.get_model("scoring", "DimensionWeights").objects.filter(id=1).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(create_seed_weights, remove_seed_weights)]
