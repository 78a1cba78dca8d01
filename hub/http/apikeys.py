"""API key strings and how a request presents one.

A key is ``ipk_<id>.<secret>``: ``id`` (16 hex digits) is public (the hub looks the key up
by it, and logs name it); ``secret`` is 32 random bytes, URL-safe base64. The hub stores
only the secret's SHA-256 (:mod:`hub.store.apikeys`), so a copy of its database cannot
call the API. ``iplat-hub apikey create`` prints a key once.

A request presents it as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. The
iCalendar feeds also take ``?key=<key>``, because calendar apps that subscribe to a URL
cannot send headers; such URLs must be treated as secrets (they end up in calendar
settings and proxy logs), so the query form is refused everywhere else.

This module imports no HTTP library: the CLI uses it to make keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from hub.store.apikeys import ApiKeyInfo

PREFIX = "ipk_"
SECRET_BYTES = 32
_KEY = re.compile(r"^ipk_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")
KEY_PATTERN = r"^ipk_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$"
MAX_KEY_LENGTH = 64


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_key(name: str, role: str, now: int) -> tuple[str, ApiKeyInfo]:
    """A fresh key: (the string to hand out once, what to store)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    info = ApiKeyInfo(
        id=key_id, name=name, role=role, secret_hash=hash_secret(secret), created_at=now
    )
    return f"{PREFIX}{key_id}.{secret}", info


def parse(key: str) -> tuple[str, str]:
    """(id, secret hash) of a key string; ValueError if it is not shaped like one."""
    match = _KEY.match(key.strip())
    if match is None:
        raise ValueError(
            "not an API key (they look like ipk_<16 hex digits>.<43 characters>); copy it "
            "again from 'iplat-hub apikey create'"
        )
    return match.group(1), hash_secret(match.group(2))


def matches(info: ApiKeyInfo, secret_hash: str) -> bool:
    return hmac.compare_digest(info.secret_hash, secret_hash)


class NoKey(Exception):
    """The request presents no key (or in a place this route does not accept)."""


def presented(headers: Mapping[str, str], query: Mapping[str, str], *, query_allowed: bool) -> str:
    """The key a request presents; raises NoKey (with what to do) or ValueError (shape)."""
    auth = headers.get("Authorization", "")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ValueError("the Authorization header must be 'Bearer <API key>'")
        return value.strip()
    header_key = headers.get("X-API-Key", "")
    if header_key:
        return header_key.strip()
    if query_allowed and "key" in query:
        return query["key"]
    raise NoKey(
        "this operation needs an API key: send 'Authorization: Bearer <key>' or "
        "'X-API-Key: <key>' (keys are made by the hub operator with 'iplat-hub apikey create')"
    )
