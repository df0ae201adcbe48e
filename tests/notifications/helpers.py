"""A real HTTP server on 127.0.0.1 standing in for Slack (or Mattermost, Rocket.Chat) and for a webhook receiver."""
import datetime
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kpis import roles
from notifications.choices import EventKind
from scoring.breaches import evaluate_breaches
from tests.helpers import member_of
from tests.kpis.factories import ObservationFactory
from tests.notifications.factories import ChannelFactory, SubscriptionFactory

DAY = datetime.date(2024, 1, 15)
START = datetime.datetime(2024, 1, 15, 10, tzinfo=datetime.timezone.utc)


class Receiver:
    """
    Records every POST it gets (path, headers, raw body) and answers `status`. Binds an ephemeral port on first
    start; `stop()` closes it (the sender then finds nothing listening) and `start()` listens on the same port again.
    """

    def __init__(self, status=200):
        self.status = status
        self.requests = []
        self.port = 0
        self._server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def json_bodies(self):
        return [json.loads(request["body"]) for request in self.requests]


def signature_valid(secret, body, header):
    """What a receiver does with X-CompanyOS-Signature: HMAC-SHA256 of the raw body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def observe_and_evaluate(kpi, service, values):
    """One observation of `kpi` in `service` per minute from START, then the day's breaches evaluated."""
    for minute, value in enumerate(values):
        ObservationFactory(
            kpi=kpi, company=service.domain.company, domain=service.domain, service=service,
            observed_at=START + datetime.timedelta(minutes=minute), value=value,
        )
    return evaluate_breaches(DAY, company=service.domain.company)


def notifications_of(company):
    """A subscription (and its channel) of a responder of `company` alone, made once; both are named after it."""
    user = member_of(roles.RESPONDERS, f"{company.slug}-responder")
    if not user.memberships.exists():
        user.memberships.create(company=company)
    subscription = user.notification_subscriptions.first()
    if subscription is None:
        channel = ChannelFactory(owner=user, name=f"{company.slug} private channel", url=f"https://chat.{company.slug}.example/hook")
        subscription = SubscriptionFactory(user=user, channel=channel, event=EventKind.BREACH_OPENED, company=company)
    return subscription
