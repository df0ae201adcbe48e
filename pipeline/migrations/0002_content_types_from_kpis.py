"""The content type of NightlyChunk follows the model from kpis to pipeline."""
from django.db import migrations

from companyos.model_moves import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("kpis", "0009_nightly_chunks_moved_to_pipeline"),
        ("pipeline", "0001_nightly_chunks_from_kpis"),
    ]

    operations = [move_content_types(["nightlychunk"], from_label="kpis", to_label="pipeline")]
