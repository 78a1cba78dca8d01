"""Errors of the availability engine. Messages say what to change in the query.

::

    QueryError(ValueError)         the query is invalid: HTTP 400 problem / gRPC INVALID_ARGUMENT
    ├── InvalidWindow              from/to missing, inverted, too long, unparsable
    ├── InvalidDuration            hours <= 0, not whole minutes, longer than the window
    ├── UnknownCode                industry / R&D stage / service kind / time zone not known
    └── InvalidFilter              text or code too long, too many capabilities, bad limit/offset
    NotFound(LookupError)          free_busy: the center or equipment does not exist:
                                   HTTP 404 / gRPC NOT_FOUND

Every :class:`QueryError` names the offending parameter in ``field`` (``"from"``,
``"hours"``, ``"capabilities"`` ...), so an API can point at it. Database failures are
not translated here: they stay :class:`hub.errors.StoreError` (HTTP 503 / UNAVAILABLE).
"""

from __future__ import annotations


class QueryError(ValueError):
    """An invalid search or free/busy query; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidWindow(QueryError):
    pass


class InvalidDuration(QueryError):
    pass


class UnknownCode(QueryError):
    pass


class InvalidFilter(QueryError):
    pass


class NotFound(LookupError):
    """The center (or its equipment) named in a free/busy query does not exist."""


__all__ = [
    "InvalidDuration",
    "InvalidFilter",
    "InvalidWindow",
    "NotFound",
    "QueryError",
    "UnknownCode",
]
