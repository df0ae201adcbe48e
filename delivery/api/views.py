from rest_framework import exceptions

from connectors.api.views import SignedWebhookView
from connectors.choices import IntegrationKind
from connectors.signatures import GITHUB_HEADER, github_signature_valid
from delivery import github

DELIVERY_HEADER = "X-GitHub-Delivery"
EVENT_HEADER = "X-GitHub-Event"


class GitHubWebhookView(SignedWebhookView):
    """
    A GitHub organisation's or repository's webhook (content type application/json or GitHub's default
    application/x-www-form-urlencoded, the JSON in its `payload` field), signed with the
    integration's secret. Reads push, pull_request, deployment, deployment_status, check_suite and workflow_run
    deliveries of linked repositories; every delivery is kept, once per X-GitHub-Delivery (a redelivery changes
    nothing), and what is not read is kept as ignored with the reason.
    """

    kind = IntegrationKind.GITHUB
    signature_header = GITHUB_HEADER
    signature_valid = staticmethod(github_signature_valid)

    def deliver(self, request, integration, payload):
        headers = {name: request.headers.get(name, "").strip() for name in (DELIVERY_HEADER, EVENT_HEADER)}
        missing = [name for name, value in headers.items() if not value]
        if missing:
            message = "GitHub sends this header with every delivery."
            raise exceptions.ValidationError({name: [message] for name in missing})
        return github.receive_delivery(
            integration, delivery_id=headers[DELIVERY_HEADER], event_type=headers[EVENT_HEADER], payload=payload
        )
