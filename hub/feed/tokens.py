"""Feed tokens: opaque strings that name a feed position.

A token is the URL-safe base64 of a version byte and the 8-byte position (12 characters,
no padding), so clients treat it as opaque and cannot do arithmetic on it. The empty
token means "from the beginning" (position 0). Anything else that does not decode is
refused with ValueError saying what a token looks like.
"""

from __future__ import annotations

import base64
import binascii
import re

_VERSION = 1
TOKEN_LENGTH = 12
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{12}$")
PATTERN = "^[A-Za-z0-9_-]{12}$"
"""The token's shape as a regular expression (for the OpenAPI document)."""


def encode(position: int) -> str:
    if not 0 <= position < 2**63:
        raise ValueError(f"feed position {position} out of range")
    raw = bytes([_VERSION]) + position.to_bytes(8, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode(token: str) -> int:
    """The position of ``token`` ("" -> 0); ValueError when it is not a feed token."""
    if token == "":
        return 0
    if not _SHAPE.match(token):
        raise ValueError(_help(token))
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, ValueError):
        raise ValueError(_help(token)) from None
    if len(raw) != 9 or raw[0] != _VERSION:
        raise ValueError(_help(token))
    position = int.from_bytes(raw[1:], "big")
    if position >= 2**63:
        raise ValueError(_help(token))
    return position


def _help(token: str) -> str:
    return (
        f"{token[:40]!r} is not a feed token (12 characters of URL-safe base64, as received "
        "in an event); pass the token of the last event you processed, or none to start "
        "from the beginning"
    )
