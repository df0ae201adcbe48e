"""Reviews of definitions and the daily reminder to owners whose definitions are due for review."""
import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from kpis import services
from kpis.models import KpiDefinition, KpiReview, ReviewReminder
from kpis.tasks.reviews import start_overdue_review_reminders
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


def make_overdue(*kpis):
    KpiDefinition.objects.filter(pk__in=[kpi.pk for kpi in kpis]).update(
        next_review_due=timezone.localdate() - datetime.timedelta(days=3)
    )


def test_a_new_definition_is_due_for_review_one_cadence_after_its_creation():
    kpi = KpiDefinitionFactory(slug="mttr", review_cadence="monthly")
    today = timezone.localdate()
    assert kpi.next_review_due > today
    assert kpi.next_review_due <= today + datetime.timedelta(days=31)


def test_recording_a_review_keeps_who_what_and_moves_the_next_review_by_the_cadence():
    reviewer = UserFactory(username="olivia")
    kpi = KpiDefinitionFactory(slug="mttr", review_cadence="quarterly")
    make_overdue(kpi)
    review = services.record_review(kpi, reviewer=reviewer, outcome="confirmed", notes="Still right")
    kpi.refresh_from_db()
    reviewed_on = timezone.localdate(review.reviewed_at)
    assert KpiReview.objects.get() == review
    assert (review.reviewer, review.outcome, review.notes) == (reviewer, "confirmed", "Still right")
    assert kpi.last_reviewed_at == review.reviewed_at
    assert kpi.next_review_due == reviewed_on + relativedelta(months=3)
    assert not KpiDefinition.objects.due_for_review(timezone.localdate()).exists()


def test_a_review_is_not_a_change_of_the_definition():
    kpi = KpiDefinitionFactory(slug="mttr")
    services.record_review(kpi, reviewer=UserFactory(), outcome="confirmed")
    assert kpi.history.count() == 1


def test_an_unknown_review_outcome_is_refused_naming_the_field():
    kpi = KpiDefinitionFactory(slug="mttr")
    with pytest.raises(ValidationError) as refused:
        services.record_review(kpi, reviewer=UserFactory(), outcome="approved")
    assert "outcome" in refused.value.message_dict
    assert not KpiReview.objects.exists()


def test_the_reminder_task_mails_only_owners_of_overdue_definitions_listing_only_those():
    olivia, sam, rita = UserFactory(username="olivia"), UserFactory(username="sam"), UserFactory(username="rita")
    mttr = KpiDefinitionFactory(slug="mttr", owner=olivia)
    mtta = KpiDefinitionFactory(slug="mtta", owner=olivia)
    KpiDefinitionFactory(slug="nps", owner=olivia)
    KpiDefinitionFactory(slug="gross-margin", owner=sam)
    unowned = KpiDefinitionFactory(slug="toil-ratio")
    retired = KpiDefinitionFactory(slug="old-kpi", owner=rita, status="retired")
    make_overdue(mttr, mtta, unowned, retired)

    start_overdue_review_reminders.delay()

    assert [message.to for message in mail.outbox] == [["olivia@example.com"]]
    body = mail.outbox[0].body
    assert "mttr" in body and "mtta" in body
    assert "nps" not in body and "gross-margin" not in body
    assert mail.outbox[0].subject == "2 KPI definitions due for review"


def test_an_owner_is_reminded_at_most_once_a_day_even_if_the_task_runs_twice():
    olivia = UserFactory(username="olivia")
    make_overdue(KpiDefinitionFactory(slug="mttr", owner=olivia))

    start_overdue_review_reminders.delay()
    start_overdue_review_reminders.delay()

    assert len(mail.outbox) == 1
    assert ReviewReminder.objects.get().recipient == olivia


def test_an_owner_is_reminded_again_on_a_later_day():
    olivia = UserFactory(username="olivia")
    kpi = KpiDefinitionFactory(slug="mttr", owner=olivia)
    make_overdue(kpi)
    today = timezone.localdate()
    services.send_overdue_review_reminder(olivia, today)
    services.send_overdue_review_reminder(olivia, today + datetime.timedelta(days=1))
    assert len(mail.outbox) == 2


def test_a_reminder_that_fails_to_send_is_not_recorded_so_a_retry_sends_it(monkeypatch):
    olivia = UserFactory(username="olivia")
    make_overdue(KpiDefinitionFactory(slug="mttr", owner=olivia))

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server unreachable")

    monkeypatch.setattr(services, "send_mail", mail_server_down)
    with pytest.raises(ConnectionRefusedError):
        services.send_overdue_review_reminder(olivia, timezone.localdate())
    assert not ReviewReminder.objects.exists()
    monkeypatch.undo()
    services.send_overdue_review_reminder(olivia, timezone.localdate())
    assert len(mail.outbox) == 1
