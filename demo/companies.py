"""The demo's companies: the named ones first, then as many comp-demo-N as asked for."""

NAMED_COMPANIES = [("comp-acme", "Acme"), ("comp-globex", "Globex"), ("comp-initech", "Initech")]


def company_identities(count):
    """(slug, name) of the first `count` demo companies: the named ones, then comp-demo-N."""
    named = NAMED_COMPANIES[:count]
    return named + [(f"comp-demo-{n}", f"Demo {n}") for n in range(len(named) + 1, count + 1)]
