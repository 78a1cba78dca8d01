"""Outbox compaction, as a pure model: the rule ``agent.state`` implements in SQLite.

The rule
    The outbox holds at most one pending change per record key. A new change for a key
    that already has a pending change *replaces* it: the body becomes the newest one and
    the change takes a fresh sequence number (above every number assigned before).

Why nothing is lost
    The hub applies a center's changes in seq order, skips anything at or below its
    high-water mark, and lets a change overwrite a record only if its seq is newer than
    the record's version. A pending change always carries the record's *current* body,
    so whatever older changes for that key the hub has or has not seen, applying the one
    pending change leaves the hub with the current body. The fresh seq matters: reusing
    the old seq could leave it at or below a high-water mark the hub reached by
    committing the superseded change, and the hub would skip it as a replay.

Acknowledgement
    ``ack(hwm)`` drops pending changes with ``seq <= hwm``. A change the hub acked and
    that was superseded afterwards is gone from the outbox already (replaced with a
    higher seq), so an ack never removes a change the hub has not seen.

``Outbox`` and ``HubCopy`` are immutable values; the property tests drive them and the real
``AgentState`` with the same operations and compare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from proto.records import Key

T = TypeVar("T")


@dataclass(frozen=True)
class Pending(Generic[T]):
    key: Key
    seq: int
    value: T | None
    """The record's body, or None for a deletion."""


@dataclass(frozen=True)
class Outbox(Generic[T]):
    pending: Mapping[Key, Pending[T]] = field(default_factory=dict)
    last_assigned: int = 0
    last_acked: int = 0

    def record(self, key: Key, value: T | None) -> Outbox[T]:
        """Queue a change of ``key`` (``None``: deleted), replacing its pending change."""
        seq = self.last_assigned + 1
        pending = dict(self.pending)
        pending[key] = Pending(key, seq, value)
        return Outbox(pending, seq, self.last_acked)

    def ack(self, hwm: int) -> Outbox[T]:
        pending = {k: p for k, p in self.pending.items() if p.seq > hwm}
        return Outbox(pending, self.last_assigned, max(self.last_acked, hwm))

    def renumber_above(self, seq: int) -> Outbox[T]:
        """Make every pending seq, and the next one assigned, exceed ``seq``, keeping order.

        Used when the hub has committed numbers this outbox never assigned (its state
        was lost): those numbers would look like replays to the hub.
        """
        if not any(p.seq <= seq for p in self.pending.values()):
            return Outbox(self.pending, max(self.last_assigned, seq), self.last_acked)
        base = max(self.last_assigned, seq)
        pending: dict[Key, Pending[T]] = {}
        for i, p in enumerate(self.in_seq_order(), start=1):
            pending[p.key] = Pending(p.key, base + i, p.value)
        return Outbox(pending, base + len(pending), self.last_acked)

    def in_seq_order(self) -> list[Pending[T]]:
        return sorted(self.pending.values(), key=lambda p: p.seq)


@dataclass(frozen=True)
class HubCopy(Generic[T]):
    """The hub's copy of one center, applying changes the way the hub store does."""

    records: Mapping[Key, tuple[int, T]] = field(default_factory=dict)
    """key -> (version = seq of the change that wrote it, body)."""
    hwm: int = 0
    tombstones: Mapping[Key, int] = field(default_factory=dict)
    """key -> seq of the deletion, so an older upsert cannot resurrect it."""

    def apply(self, changes: Iterable[Pending[T]]) -> HubCopy[T]:
        records = dict(self.records)
        tombstones = dict(self.tombstones)
        hwm = self.hwm
        for ch in changes:
            if ch.seq <= hwm:
                continue  # a replay: acknowledged without effect
            version = max(records.get(ch.key, (0, None))[0], tombstones.get(ch.key, 0))
            if version < ch.seq:
                if ch.value is None:
                    records.pop(ch.key, None)
                    tombstones[ch.key] = ch.seq
                else:
                    records[ch.key] = (ch.seq, ch.value)
                    tombstones.pop(ch.key, None)
            hwm = max(hwm, ch.seq)
        return HubCopy(records, hwm, tombstones)

    def values(self) -> dict[Key, T]:
        return {k: v for k, (_, v) in self.records.items()}
