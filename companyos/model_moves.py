"""Migration operations for a model that moves between apps with its table unchanged."""
from django.db import migrations


def _move_content_types(apps, models, from_label, to_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        moving = ContentType.objects.filter(app_label=from_label, model=model)
        if moving.exists():
            # A content type made for the new label before this ran holds nothing yet: the old one takes its place.
            ContentType.objects.filter(app_label=to_label, model=model).delete()
            moving.update(app_label=to_label)


def move_content_types(models, *, from_label, to_label):
    """
    The content types of `models` (lower-case model names) follow them from app `from_label` to `to_label`, so
    their permissions, group grants and admin log entries keep pointing at them (and back on reverse).
    """

    def forwards(apps, schema_editor):
        _move_content_types(apps, models, from_label, to_label)

    def backwards(apps, schema_editor):
        _move_content_types(apps, models, to_label, from_label)

    return migrations.RunPython(forwards, backwards)
