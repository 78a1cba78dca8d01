"""Request parameters, validated strictly, every problem of a request reported at once.

Each route declares the query parameters it takes (the same list the OpenAPI document
publishes); an unknown or repeated parameter, an empty value, a value over its length
limit or outside its pattern or range is a 400 problem naming the parameter. Values are
never interpolated into SQL (the store binds them), but refusing what cannot be valid
keeps surprises (and multi-megabyte strings) out of the store and the logs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from aiohttp import web

from hub.http.problems import FieldError, invalid, invalid_one
from proto import codes

ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""Center, equipment and entry ids (``proto.identity``)."""
_ID = re.compile(ID_PATTERN)
SAFE_TEXT_PATTERN = (
    "^[A-Za-z0-9_\\u00C0-\\u024F\\u1100-\\u11FF\\u3130-\\u318F\\uAC00-\\uD7A3 .,/()&+#:\\u00B7-]+$"
)
"""Free-text filters (category, capability, region, name text): Latin and Hangul letters,
digits, spaces and ``. , / ( ) & + # : · - _``. Values are bound parameters anyway, but
quotes, semicolons, ``%``, ``=``, control characters and the like never occur in codes,
tags, regions or equipment names, so they are refused rather than searched for. The same
pattern (ECMA-262 compatible) is published in the OpenAPI document."""
SAFE_TEXT = re.compile(SAFE_TEXT_PATTERN)
SAFE_TEXT_SHAPE = "plain text (letters, digits, spaces and . , / ( ) & + # : · - _)"
_INT = re.compile(r"^[+-]?[0-9]{1,18}$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_MAX_NUMBER_TEXT = 32


def path_id(request: web.Request, name: str) -> str:
    """A path segment that must be an id; 400 naming it otherwise."""
    value = request.match_info[name]
    if not _ID.match(value):
        raise invalid_one(
            name,
            f"{value[:80]!r} is not an id: letters, digits, '.', '_' or '-', starting with a "
            "letter or digit, at most 64 characters",
            "path",
        )
    return value


class Query:
    """The query parameters of one request; read them, then call :meth:`done`."""

    def __init__(self, request: web.Request, allowed: Iterable[str]) -> None:
        self._query = request.query
        self._allowed = tuple(allowed)
        self.errors: list[FieldError] = []
        for name in dict.fromkeys(self._query.keys()):
            if name not in self._allowed:
                self._unknown(name)

    def _unknown(self, name: str) -> None:
        takes = ", ".join(self._allowed) or "no parameters"
        hint = ""
        if name == "key":
            hint = (
                " (key= is accepted only by the .ics free/busy feeds, for calendar apps; "
                "send 'Authorization: Bearer KEY' or 'X-API-Key: KEY' instead)"
            )
        self.errors.append(
            FieldError(name[:80], f"unknown parameter; this operation takes: {takes}{hint}")
        )

    def fail(self, name: str, detail: str) -> None:
        self.errors.append(FieldError(name, detail))

    def done(self) -> None:
        """Raise the 400 problem if anything was wrong."""
        if self.errors:
            raise invalid(self.errors)

    def one(self, name: str) -> str | None:
        values = self._query.getall(name, [])
        if not values:
            return None
        if len(values) > 1:
            self.fail(name, f"given {len(values)} times; give it once")
            return None
        value = values[0]
        if value == "":
            self.fail(name, "is empty; give a value or leave the parameter out")
            return None
        if "\x00" in value:
            self.fail(name, "contains a NUL character")
            return None
        return value

    def text(
        self,
        name: str,
        max_length: int,
        *,
        pattern: re.Pattern[str] | None = None,
        shape: str = "",
        required: bool = False,
    ) -> str | None:
        value = self.one(name)
        if value is None:
            if required and name not in self._query:
                self.fail(name, "is required")
            return None
        if len(value) > max_length:
            self.fail(name, f"is {len(value)} characters long; at most {max_length} are allowed")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(name, f"{value[:80]!r} is not {shape or 'valid here'}")
            return None
        return value

    def safe_text(self, name: str, max_length: int) -> str | None:
        """A free-text filter (see :data:`SAFE_TEXT_PATTERN`)."""
        return self.text(name, max_length, pattern=SAFE_TEXT, shape=SAFE_TEXT_SHAPE)

    def texts(self, name: str, max_items: int, max_length: int) -> list[str]:
        """A repeatable free-text filter (see :data:`SAFE_TEXT_PATTERN`)."""
        values = self._query.getall(name, [])
        if len(values) > max_items:
            self.fail(name, f"given {len(values)} times; at most {max_items} are allowed")
            return []
        out = []
        for value in values:
            if value == "" or "\x00" in value:
                self.fail(name, "a value is empty or contains a NUL character")
                return []
            if len(value) > max_length:
                self.fail(name, f"a value is {len(value)} characters long; at most {max_length}")
                return []
            if not SAFE_TEXT.match(value):
                self.fail(name, f"{value[:80]!r} is not {SAFE_TEXT_SHAPE}")
                return []
            out.append(value)
        return out

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self.one(name)
        if value is None:
            return default
        if not _INT.match(value) or not low <= int(value) <= high:
            self.fail(name, f"{value[:40]!r} is not a whole number in {low}..{high}")
            return default
        return int(value)

    def number(self, name: str, low_exclusive: float, high: float, *, required: bool) -> float:
        value = self.one(name)
        if value is None:
            if required and name not in self._query:
                self.fail(name, "is required")
            return math.nan
        ok = len(value) <= _MAX_NUMBER_TEXT and _NUMBER.match(value)
        number = float(value) if ok else math.nan
        if not (math.isfinite(number) and low_exclusive < number <= high):
            self.fail(name, f"{value[:40]!r} is not a number above {low_exclusive} up to {high}")
            return math.nan
        return number

    def code(self, name: str, cmap: codes.CodeMap) -> str | None:
        value = self.one(name)
        if value is None:
            return None
        if value not in cmap.codes:
            allowed = ", ".join(cmap.codes)
            self.fail(name, f"{value[:80]!r} is not a known code; use one of: {allowed}")
            return None
        return value
