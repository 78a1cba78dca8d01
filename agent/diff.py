"""The pure difference between what a source produced last time and what it produces now.

Records are compared by their canonical hash only (``proto.records.record_hash``), so the
diff never looks inside a record and works for any payload type ``T``. Output order is
deterministic (sorted by key) so that the same two snapshots always produce the same
outbox sequence numbers, whatever the dict iteration order of the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from proto.records import Key

T = TypeVar("T")


@dataclass(frozen=True)
class Upsert(Generic[T]):
    """A record that is new or whose hash changed."""

    key: Key
    hash: bytes
    value: T


@dataclass(frozen=True)
class Diff(Generic[T]):
    upserts: tuple[Upsert[T], ...]
    """New or changed records, in key order."""
    deletes: tuple[Key, ...]
    """Keys present before and gone now, in key order."""
    unchanged: int
    """Keys present in both with the same hash."""

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes


def diff(old: Mapping[Key, bytes], new: Mapping[Key, tuple[bytes, T]]) -> Diff[T]:
    """What turns ``old`` (key -> hash) into ``new`` (key -> (hash, value))."""
    upserts: list[Upsert[T]] = []
    unchanged = 0
    for key in sorted(new):
        h, value = new[key]
        if old.get(key) == h:
            unchanged += 1
        else:
            upserts.append(Upsert(key, h, value))
    deletes = tuple(sorted(key for key in old if key not in new))
    return Diff(tuple(upserts), deletes, unchanged)


def apply(old: Mapping[Key, bytes], d: Diff[T]) -> dict[Key, bytes]:
    """``old`` with ``d`` applied: the hashes the new snapshot has (the diff's defining law)."""
    out = dict(old)
    for key in d.deletes:
        del out[key]
    for up in d.upserts:
        out[up.key] = up.hash
    return out
