"""Protobuf timestamps to and from aware UTC datetimes and epoch seconds.

The hub stores instants as integer epoch seconds (portable, fast overlap
queries on SQLite and PostgreSQL); the wire carries ``Timestamp``; users see
ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_epoch(ts: Timestamp) -> int:
    return int(ts.seconds)


def from_epoch(seconds: int) -> Timestamp:
    return Timestamp(seconds=int(seconds))


def to_datetime(ts: Timestamp) -> datetime:
    return datetime.fromtimestamp(ts.seconds, tz=UTC)


def from_datetime(dt: datetime) -> Timestamp:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone before converting")
    return Timestamp(seconds=int(dt.timestamp()))


def iso(seconds: int | None) -> str | None:
    """ISO 8601 UTC with a ``Z``, or None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_timestamp() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts
