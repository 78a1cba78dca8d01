"""Building blocks of the OpenAPI document: schema shorthands, parameters, responses.

:mod:`hub.http.openapi` assembles the document from the paths and schemas of
:mod:`hub.http.openapi_view` (the national view) and :mod:`hub.http.openapi_routing`
(one-stop requests), which all build on these, so every operation describes its
parameters, problems and security the same way.
"""

from __future__ import annotations

from typing import Any

from hub.feed import tokens
from hub.http import cursors, problems
from hub.http.params import ID_PATTERN, SAFE_TEXT_PATTERN
from proto import codes

JSON = "application/json"
Schema = dict[str, Any]

# -- schemas ------------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], description: str = "") -> Schema:
    """A closed object whose every property is present (absent values are null)."""
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (Z)"}
LOCAL_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with the offset of the query's time zone",
}
TOKEN: Schema = {"type": "string", "pattern": tokens.PATTERN, "description": "Opaque feed token"}
CURSOR: Schema = {"type": "string", "pattern": cursors.PATTERN}


def enum(cmap: codes.CodeMap) -> Schema:
    return {"type": "string", "enum": list(cmap.codes)}


# -- parameters -----------------------------------------------------------------------------------


def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def text(max_length: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def safe(max_length: int) -> Schema:
    return {**text(max_length), "pattern": SAFE_TEXT_PATTERN}


def limit(maximum: int, default: int) -> Schema:
    return query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        "Page size",
    )


CURSOR_PARAM = query(
    "cursor",
    {**CURSOR, "maxLength": cursors.MAX_LENGTH},
    "`next_cursor` of the previous page (same filters); omit for the first page",
)
ID_SCHEMA: Schema = {"type": "string", "pattern": ID_PATTERN, "maxLength": 64}


def path(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": ID_SCHEMA,
    }


# -- responses ----------------------------------------------------------------------------------

DESCRIPTIONS = {
    400: "Invalid parameter or body (see `errors`)",
    401: "No API key, or an unknown one",
    403: "The API key was revoked",
    404: "Not found (no such center, equipment or request)",
    409: "The operation does not fit the request's current state (the detail says why)",
    410: "The token is older than the retained change log: resync from GET /v1/snapshot",
    413: "Request body too large",
    422: "The body is well-formed but not a valid request: `errors` name each field",
    503: "The hub's database is unavailable; retry",
}


def problem(status: int) -> Schema:
    return {
        "description": DESCRIPTIONS[status],
        "content": {problems.MEDIA_TYPE: {"schema": ref("Problem")}},
    }


def responses(
    ok: Schema | None,
    *,
    status: int = 200,
    media: str = JSON,
    secured: bool = True,
    found: bool = False,
    feed: bool = False,
    extra: tuple[int, ...] = (),
    description: str = "OK",
    headers: Schema | None = None,
) -> dict[str, Schema]:
    """The answers of an operation: ``status`` with ``ok``, then every problem it can give."""
    answer: Schema = {"description": description, "content": {media: {"schema": ok or STR}}}
    if headers:
        answer["headers"] = headers
    out: dict[str, Schema] = {str(status): answer}
    codes_ = [400, 413, 503, *extra]
    if secured:
        codes_ += [401, 403]
    if found:
        codes_.append(404)
    if feed:
        codes_.append(410)
    for code in sorted(set(codes_)):
        out[str(code)] = problem(code)
    return out


KEY_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKeyHeader": []}]
ICS_SECURITY: list[dict[str, list[str]]] = [*KEY_SECURITY, {"apiKeyQuery": []}]


def op(
    op_id: str, summary: str, answers: dict[str, Schema], method: str = "get", **extra: Any
) -> Schema:
    """One path item with one operation."""
    return {method: {"operationId": op_id, "summary": summary, "responses": answers, **extra}}


def json_body(schema: Schema, description: str, required: bool = True) -> Schema:
    return {
        "required": required,
        "description": description,
        "content": {JSON: {"schema": schema}},
    }
