"""
OpenAPI post-processing: every operation documents the one error shape and the error statuses it can return, and
what the views refuse that the annotations cannot say.
"""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string", "description": "Names the field or slug at fault when there is one."},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}

COMMON_ERRORS = {
    "400": "Invalid input; the message names the field at fault.",
    "401": "No valid credentials.",
    "403": "Not allowed for this caller.",
    "404": "Not found, or not visible to this caller.",
    "405": "Method not allowed.",
    "406": "No acceptable response format.",
    "415": "Unsupported request body format.",
    "429": "Too many requests (or bad tokens) from this caller; Retry-After says when to try again.",
}
WRITE_ERRORS = {
    "409": "Conflicts with something that exists (e.g. an observation key).",
    "413": "The body is larger than the request limit; split the batch.",
}


def refuse_blank_required_parameters(result, generator, request, public):
    """A required string query parameter (`company`, `company_id`) is refused when empty: its schema says so (minLength)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("required") and parameter["in"] == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
    return result


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            errors = {**COMMON_ERRORS, **(WRITE_ERRORS if method in ("post", "put", "patch") else {})}
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description, "content": reference})
    return result
