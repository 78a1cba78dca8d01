"""A fresh PostgreSQL database per test, on the server the machine runs.

Tests marked ``postgres`` skip when no server answers, unless
``IPLAT_REQUIRE_PG=1`` (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_URL = os.environ.get("IPLAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _required() -> bool:
    return os.environ.get("IPLAT_REQUIRE_PG", "") not in ("", "0")


def _connect_admin():  # type: ignore[no-untyped-def]
    import psycopg

    url = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def available() -> bool:
    try:
        with _connect_admin():
            return True
    except Exception:
        return False


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database; yield its SQLAlchemy URL; drop it afterwards."""
    try:
        admin = _connect_admin()
    except Exception as exc:
        if _required():
            pytest.fail(f"PostgreSQL required (IPLAT_REQUIRE_PG=1) but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {ADMIN_URL}: {exc}")
    name = f"iplat_t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _connect_admin() as admin2:
            admin2.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
