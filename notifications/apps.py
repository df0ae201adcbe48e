from django.apps import AppConfig, apps


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from companyos import events

        from . import receivers

        for name in ("breach_opened", "breach_closed", "proposal_submitted", "proposal_decided", "review_overdue",
                     "nightly_run_failed"):
            getattr(events, name).connect(getattr(receivers, name), dispatch_uid=f"notifications.{name}")
        # The monthly reports live in an app of their own, which a deployment may leave out.
        if apps.is_installed("reports"):
            from reports.signals import report_ready

            report_ready.connect(receivers.report_ready, dispatch_uid="notifications.report_ready")
