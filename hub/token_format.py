"""Enrollment token strings: ``ipt_<id>.<secret>``.

``id`` (16 hex digits) is public: the hub looks the token up by it, and logs may name
it. ``secret`` is 32 random bytes, URL-safe base64; the hub stores only its SHA-256, so a
copy of the database cannot be used to enroll. The token string itself is shown once, by
``iplat-hub token create``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from hub.store import TokenInfo

PREFIX = "ipt_"
SECRET_BYTES = 32
_TOKEN = re.compile(r"^ipt_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_token(kind: str, name: str, ttl_seconds: int, now: int) -> tuple[str, TokenInfo]:
    """A fresh token for identity ``kind``/``name``: (the string to hand out, what to store)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    info = TokenInfo(
        id=token_id,
        secret_hash=hash_secret(secret),
        kind=kind,
        name=name,
        created_at=now,
        expires_at=now + ttl_seconds,
    )
    return f"{PREFIX}{token_id}.{secret}", info


def parse(token: str) -> tuple[str, str]:
    """(id, secret hash) of a token string; ValueError if it is not shaped like one."""
    match = _TOKEN.match(token.strip())
    if match is None:
        raise ValueError(
            "not an enrollment token (they look like ipt_<16 hex digits>.<43 characters>); "
            "copy it again from 'iplat-hub token create'"
        )
    return match.group(1), hash_secret(match.group(2))


def parse_duration(text: str) -> int:
    """``"90m"``, ``"24h"``, ``"7d"``, ``"3600"`` (seconds) -> seconds; ValueError otherwise."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration; write e.g. 30m, 24h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]
