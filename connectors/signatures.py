"""
The webhook signatures of the tools that sign their deliveries: an HMAC-SHA256 of the raw request body
with the integration's secret, compared in constant time.

- GitHub: `X-Hub-Signature-256: sha256=<hex>`.
- PagerDuty (v3 webhooks): `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, several while a secret rotates.
"""
import hashlib
import hmac

GITHUB_HEADER = "X-Hub-Signature-256"
PAGERDUTY_HEADER = "X-PagerDuty-Signature"


def _hex_digest(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_github(secret, body):
    return f"sha256={_hex_digest(secret, body)}"


def sign_pagerduty(secret, body):
    return f"v1={_hex_digest(secret, body)}"


def github_signature_valid(secret, body, header):
    return bool(secret) and hmac.compare_digest(sign_github(secret, body), header.strip())


def pagerduty_signature_valid(secret, body, header):
    expected = sign_pagerduty(secret, body)
    return bool(secret) and any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))
