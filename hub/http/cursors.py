"""Opaque page cursors: where the next page of a listing starts.

A cursor is URL-safe base64 of a small JSON object naming the listing it belongs to
(``k``) and where to continue. Keyset listings (centers, equipment, snapshot) continue
after an id, so a cursor stays valid and returns no duplicates while records are added or
removed. The search continues at an offset and also carries a digest of the query, so a
cursor is refused when the filters changed (the offset would mean something else).

Cursors are not secret and not signed: everything a forged cursor could reach is
readable with the same key anyway. They are checked strictly: anything malformed is a
400 problem naming ``cursor``, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from hub.http.problems import Problem, invalid_one

MAX_LENGTH = 512
PATTERN = "^[A-Za-z0-9_-]{1,512}$"
_SHAPE = re.compile(PATTERN)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def encode(kind: str, **fields: Any) -> str:
    raw = json.dumps({"k": kind, **fields}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad(detail: str) -> Problem:
    return invalid_one(
        "cursor",
        f"{detail}; pass the next_cursor of the previous page unchanged (with the same "
        "filters), or leave cursor out for the first page",
    )


def decode(text: str, kind: str) -> dict[str, Any]:
    """The fields of a cursor of listing ``kind``; 400 problem when it is not one."""
    if not _SHAPE.match(text):
        raise _bad("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad("not a cursor") from None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise _bad("this cursor belongs to another listing")
    return data


def after_id(text: str | None, kind: str, digest: str | None = None) -> str | None:
    """The id a keyset cursor continues after (None: first page). With ``digest``, the
    cursor must have been made for the same filters."""
    if text is None:
        return None
    data = decode(text, kind)
    if digest is not None and data.get("q") != digest:
        raise mismatch()
    value = data.get("a")
    if not isinstance(value, str) or not _ID.match(value):
        raise _bad("not a cursor")
    return value


def mismatch() -> Problem:
    return _bad("this cursor was made for other filters")


def query_digest(items: Iterable[tuple[str, object]]) -> str:
    """A short digest of a query's filters, to tie a cursor to them."""
    raw = json.dumps(sorted((k, str(v)) for k, v in items), separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
