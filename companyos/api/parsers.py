"""
JSON from outside, no deeper than settings.JSON_MAX_DEPTH: the API's request parser and `load_json`, which the
signed webhooks and the scanner uploads parse their raw bodies with. Deeper nesting than any real payload has
would exhaust the recursion of the decoder and of everything that walks the data after it (a 500, not a 400).
"""
import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JsonTooDeep(ValueError):
    """JSON nested deeper than settings.JSON_MAX_DEPTH."""

    def __init__(self):
        super().__init__(f"JSON nested deeper than {settings.JSON_MAX_DEPTH} levels is refused.")


def _is_container(value):
    return type(value) is dict or type(value) is list


def nested_deeper_than(value, limit):
    """Whether `value` (parsed JSON) has objects or arrays nested more than `limit` levels; level by level, no recursion."""
    level = [value] if _is_container(value) else []
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if _is_container(child)
        ]
        if not level:
            return False
    return bool(level)


def checked_depth(value):
    """`value`, or JsonTooDeep when it is nested deeper than the setting allows."""
    if nested_deeper_than(value, settings.JSON_MAX_DEPTH):
        raise JsonTooDeep()
    return value


def load_json(content):
    """
    `content` (bytes or str) parsed as JSON; ValueError otherwise: json.JSONDecodeError or UnicodeDecodeError for
    what is not JSON, JsonTooDeep for nesting past the limit.
    """
    try:
        return checked_depth(json.loads(content))
    except RecursionError:
        raise JsonTooDeep() from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (the API's only one), refusing nesting deeper than settings.JSON_MAX_DEPTH with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return checked_depth(super().parse(stream, media_type, parser_context))
        except (RecursionError, JsonTooDeep):
            raise ParseError(str(JsonTooDeep())) from None
