"""The demo's period: whole UTC days ending yesterday, so that every demo day is complete."""
import datetime

from django.utils import timezone


def demo_period(days, today=None):
    """The `days` whole UTC days ending yesterday, as (start, end) datetimes."""
    today = today or timezone.now().astimezone(datetime.timezone.utc).date()
    end = datetime.datetime.combine(today, datetime.time(), tzinfo=datetime.timezone.utc)
    return end - datetime.timedelta(days=days), end
