"""
The Prometheus HTTP API client: a query posted to an integration's Prometheus, its JSON answer back. What the
answers become (KPI observations) is kpis.prometheus.
"""
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

# Asked of Prometheus too, so it stops evaluating when we stop waiting.
QUERY_TIMEOUT_SECONDS = 30


class PrometheusError(Exception):
    """Prometheus could not be reached, or refused or failed the query; nothing was written."""


def timestamp(moment):
    """`moment` as the API's seconds since the epoch."""
    return f"{moment.timestamp():.3f}"


def query(integration, path, params):
    """POST a query to the Prometheus HTTP API; its JSON answer, error answers included (they are kept too)."""
    url = integration.url.rstrip("/") + path
    body = urllib.parse.urlencode({**params, "timeout": f"{QUERY_TIMEOUT_SECONDS}s"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Accept": "application/json"})
    if integration.secret:
        request.add_header("Authorization", f"Bearer {integration.secret}")
    try:
        with urllib.request.urlopen(request, timeout=QUERY_TIMEOUT_SECONDS + 5) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        # A bad query (400), a failed evaluation (422) or a timeout (503) come with Prometheus' JSON error.
        status, raw = error.code, error.read()
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise PrometheusError(f"Prometheus at {integration.url} could not be queried: {reason}.") from error
    try:
        response = json.loads(raw)
    except ValueError:
        response = None
    if not isinstance(response, dict) or "status" not in response:
        raise PrometheusError(f"Prometheus at {integration.url} answered HTTP {status} without an API response.")
    return response


# What a connection test asks: an expression every Prometheus answers with one sample of 1, reading no data.
CONNECTION_TEST_QUERY = "vector(1)"


def check_connection(integration):
    """
    Ask the integration's Prometheus `vector(1)`: what it answered, in words, when it answered as a Prometheus
    does; a PrometheusError saying what went wrong (unreachable, refused the token, not a Prometheus) otherwise.
    """
    response = query(integration, "/api/v1/query", {"query": CONNECTION_TEST_QUERY})
    if response.get("status") != "success":
        raise PrometheusError(
            f"Prometheus at {integration.url} refused {CONNECTION_TEST_QUERY} "
            f"({response.get('errorType', 'error')}): {response.get('error', '')}"
        )
    try:
        value = response["data"]["result"][0]["value"][1]
    except (KeyError, IndexError, TypeError):
        raise PrometheusError(f"Prometheus at {integration.url} answered {CONNECTION_TEST_QUERY} without its sample.") from None
    return f"Prometheus at {integration.url} answered {CONNECTION_TEST_QUERY} with {value}."
