"""The day the cockpit's tests score comp-acme on, and the moments around it."""
import datetime

DAY = datetime.date(2024, 1, 15)
WEEK_BEFORE = DAY - datetime.timedelta(days=7)
MORNING = datetime.datetime(2024, 1, 15, 8, tzinfo=datetime.timezone.utc)


def at(day, hour):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.timezone.utc)
