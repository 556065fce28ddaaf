"""Building blocks for describing routes under ``/api/linli/`` in OpenAPI 3.1.

For integration authors: write an integration's ``paths`` and ``schemas`` with these and pass
them to :func:`linli.components.api.async_register_openapi`, so its routes read like the
core's. Each helper returns a new plain ``dict``::

    "/api/linli/things/{thing_id}": {
        "get": {
            "operationId": "getThing",
            "summary": "One thing.",
            "parameters": [path_param("thing_id", "The thing's id.")],
            "responses": {"200": json_reply(ref("Thing"), "The thing."), **errors(404)},
        }
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "ERROR_DESCRIPTIONS",
    "MESSAGE",
    "NULLABLE_STRING",
    "STRING",
    "array_of",
    "errors",
    "json_body",
    "json_reply",
    "path_param",
    "query_param",
    "ref",
]

STRING: Final[Mapping[str, Any]] = {"type": "string"}
NULLABLE_STRING: Final[Mapping[str, Any]] = {"type": ["string", "null"]}
MESSAGE: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {"message": STRING},
    "required": ["message"],
}
"""The ``Message`` schema of the core's document: the body of every error but 401."""

ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Bad input.",
    401: "No or invalid bearer token.",
    403: "Not allowed for this user.",
    404: "Not found, or not visible to this user.",
    409: "Not possible in the current state.",
    503: "The component behind it is not running.",
}
"""The default description of each error status :func:`errors` knows."""


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str) -> dict[str, Any]:
    """An array of the component schema ``name``."""
    return {"type": "array", "items": ref(name)}


def json_reply(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    """A response object whose body is JSON matching ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_body(schema: Mapping[str, Any], *, required: bool = True) -> dict[str, Any]:
    """A request body object: JSON matching ``schema``."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int, descriptions: Mapping[int, str] | None = None) -> dict[str, Any]:
    """Error responses for ``codes``, and 401 always, in ascending order.

    401 (what the hub answers without a valid bearer token) is plain text; the others are a
    ``Message``. ``descriptions`` overrides :data:`ERROR_DESCRIPTIONS` code by code.
    """
    text = {**ERROR_DESCRIPTIONS, **(descriptions or {})}
    out: dict[str, Any] = {}
    for code in sorted({401, *codes}):
        if code == 401:
            out["401"] = {"description": text[401], "content": {"text/plain": {"schema": STRING}}}
        else:
            out[str(code)] = json_reply(ref("Message"), text[code])
    return out


def path_param(name: str, description: str) -> dict[str, Any]:
    """A path parameter: one non-empty segment of at most 128 characters."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^/]+$"},
    }


def query_param(
    name: str, description: str | None = None, schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """An optional query parameter (a string unless ``schema`` says otherwise)."""
    out: dict[str, Any] = {"name": name, "in": "query", "required": False}
    if description is not None:
        out["description"] = description
    out["schema"] = STRING if schema is None else schema
    return out
