"""Page tokens of request listings (gRPC ``page_token``, HTTP ``cursor``).

A token carries where the next page starts (the ``before`` key :meth:`Requests.list`
returned) and a digest of the filters, so a token made for one filter is refused for
another instead of silently skipping rows. URL-safe base64 of a small JSON object, the
shape of the HTTP API's other cursors (:mod:`hub.http.cursors`); not secret: everything
a forged token could reach is readable with the same credential anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable

MAX_LENGTH = 512
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,512}$")
_KIND = "requests"
MAX_BEFORE = 200


def digest(filters: Iterable[tuple[str, object]]) -> str:
    raw = json.dumps(sorted((k, str(v)) for k, v in filters), separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode(before: str, filters: Iterable[tuple[str, object]]) -> str:
    raw = json.dumps({"k": _KIND, "b": before, "q": digest(filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, filters: Iterable[tuple[str, object]]) -> str:
    """The ``before`` key of a token; ValueError saying what to do when it is not one."""
    again = "pass the next token of the previous page unchanged, with the same filters"
    if not _SHAPE.match(token):
        raise ValueError(f"not a page token; {again}")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError(f"not a page token; {again}") from None
    if not isinstance(data, dict) or data.get("k") != _KIND:
        raise ValueError(f"not a page token of the request listing; {again}")
    if data.get("q") != digest(filters):
        raise ValueError(f"this page token was made for other filters; {again}")
    before = data.get("b")
    if not isinstance(before, str) or not before or len(before) > MAX_BEFORE:
        raise ValueError(f"not a page token; {again}")
    return before
