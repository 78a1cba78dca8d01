"""Outbox compaction: the pure model (agent.compaction) and the real AgentState, driven alike.

The property that matters is (b): whatever prefix of the outbox the hub committed (acked or
not), replaying the compacted outbox in seq order gives the hub exactly the agent's records.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iplatform.v1.message_pb2 import Change

from agent.compaction import HubCopy, Outbox, Pending
from agent.state import AgentState
from proto import pb, records
from proto.records import Key, Record

CENTER = "KR-MR-0001"
MODEL_ONLY = settings(max_examples=200, deadline=None)
WITH_SQLITE = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def make(i: int, version: int) -> Record:
    """Record number i (even: equipment, odd: calendar entry) in one of a few versions."""
    if i % 2 == 0:
        return pb.Equipment(
            id=f"eq-{i}", name_en=f"v{version}", status=pb.EQUIPMENT_STATUS_AVAILABLE
        )
    start = 1_800_000_000 + version * 3600
    return pb.CalendarEntry(
        id=f"en-{i}",
        equipment_id="eq-0",
        start={"seconds": start},
        end={"seconds": start + 600},
        kind=pb.ENTRY_KIND_BOOKED,
    )


# An edit maps record numbers to a new version, or None to delete.
edits = st.dictionaries(st.integers(0, 11), st.none() | st.integers(0, 3), max_size=8)


@dataclass(frozen=True)
class Edit:
    changes: dict[int, int | None]


@dataclass(frozen=True)
class Deliver:
    """The hub commits the first n pending changes; the ack reaches us only if acked."""

    n: int
    acked: bool


@dataclass(frozen=True)
class HubAhead:
    """The hub turns out to have committed seqs up to ``gap`` above anything we assigned
    (our state file was replaced): we must renumber above its high-water mark."""

    gap: int


ops = st.lists(
    st.builds(Edit, edits)
    | st.builds(Deliver, st.integers(0, 6), st.booleans())
    | st.builds(HubAhead, st.integers(0, 5)),
    max_size=25,
)


def as_pending(ch: Change) -> Pending[bytes]:
    which = ch.WhichOneof("body")
    value = None if which == "deleted" else records.canonical_bytes(getattr(ch, which))
    return Pending(records.key_from_message(ch.key), ch.seq, value)


@contextmanager
def fresh_state() -> Iterator[AgentState]:
    # Hypothesis reruns the test body; pytest's tmp_path would be shared across examples.
    with tempfile.TemporaryDirectory() as d:
        state = AgentState(Path(d) / "state.db", CENTER)
        try:
            yield state
        finally:
            state.close()


# -- the model on its own --------------------------------------------------------------


@MODEL_ONLY
@given(st.lists(st.tuples(st.integers(0, 9), st.none() | st.integers(0, 3), st.booleans())))
def test_model_compaction_loses_nothing(steps: list[tuple[int, int | None, bool]]) -> None:
    truth: dict[Key, int] = {}
    outbox: Outbox[int] = Outbox()
    hub: HubCopy[int] = HubCopy()
    for n, value, deliver in steps:
        key = (1, str(n))
        if value is None:
            truth.pop(key, None)
        else:
            truth[key] = value
        outbox = outbox.record(key, value)
        if deliver:  # the hub commits the oldest pending change and acks it
            hub = hub.apply(outbox.in_seq_order()[:1])
            outbox = outbox.ack(hub.hwm)
        assert len(outbox.pending) <= 10
        assert all(p.seq > outbox.last_acked for p in outbox.pending.values())
        assert hub.apply(outbox.in_seq_order()).values() == truth


def test_model_ack_of_a_superseded_seq_keeps_the_newer_change() -> None:
    outbox = Outbox[str]().record((1, "a"), "v1").record((1, "a"), "v2")
    assert outbox.ack(1).in_seq_order() == [Pending((1, "a"), 2, "v2")]


def test_model_renumbering_keeps_order_and_goes_above() -> None:
    outbox = Outbox[str]().record((1, "a"), "x").record((1, "b"), "y").record((1, "a"), "z")
    moved = outbox.renumber_above(10)
    assert [(p.key, p.seq) for p in moved.in_seq_order()] == [((1, "b"), 11), ((1, "a"), 12)]
    assert moved.last_assigned == 12
    assert outbox.renumber_above(0) == outbox


# -- the real state, checked against the model and the hub -----------------------------


@WITH_SQLITE
@given(ops)
def test_state_outbox_matches_the_model_and_replays_to_the_records(
    steps: list[Edit | Deliver | HubAhead],
) -> None:
    current: dict[int, int] = {}
    model: Outbox[bytes] = Outbox()
    hub: HubCopy[bytes] = HubCopy()
    with fresh_state() as state:
        for step in steps:
            if isinstance(step, Edit):
                before = dict(current)
                for n, version in step.changes.items():
                    if version is None:
                        current.pop(n, None)
                    else:
                        current[n] = version
                snapshot = [make(n, v) for n, v in current.items()]
                state.apply_snapshot("src", snapshot, max_delete_share=1.0)
                # The model, fed the changes in the order AgentState documents: upserts in
                # key order, then deletions in reverse key order.
                new = {records.key_of(r): records.canonical_bytes(r) for r in snapshot}
                old = {records.key_of(make(n, v)): v for n, v in before.items()}
                changed = sorted(k for k in new if k not in old or new[k] != _bytes_of(before, k))
                for k in changed:
                    model = model.record(k, new[k])
                for k in sorted((k for k in old if k not in new), reverse=True):
                    model = model.record(k, None)
            elif isinstance(step, HubAhead):
                hwm = max(hub.hwm, state.last_assigned_seq()) + step.gap
                hub = HubCopy(hub.records, hwm, hub.tombstones)
                state.ensure_seq_above(hwm)
                model = model.renumber_above(hwm)
            else:
                hub = hub.apply(as_pending(c) for c in state.pending(0, step.n))
                if step.acked:
                    state.ack(hub.hwm)
                    model = model.ack(hub.hwm)

            pending = [as_pending(c) for c in state.pending(0, 10_000)]
            keys = [p.key for p in pending]
            assert len(keys) == len(set(keys))  # (a) one pending change per record
            assert pending == model.in_seq_order()
            assert all(p.seq > state.last_acked_seq() for p in pending)
            # (b) the hub's committed prefix plus the outbox gives exactly our records.
            ours = {k: records.canonical_bytes(r) for k, r in state.load_records().items()}
            assert hub.apply(pending).values() == ours
            assert state.last_assigned_seq() == model.last_assigned


def _bytes_of(versions: dict[int, int], key: Key) -> bytes:
    n = int(key[1].split("-")[1])
    return records.canonical_bytes(make(n, versions[n]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ten_thousand_changes_to_a_hundred_records_leave_at_most_a_hundred(seed: int) -> None:
    rnd = random.Random(seed)
    current: dict[int, int] = {n: 0 for n in range(100)}
    with fresh_state() as state:
        state.apply_snapshot("src", [make(n, 0) for n in range(100)], max_delete_share=1.0)
        changes = 100
        while changes < 10_000:
            for n in rnd.sample(range(100), 100):
                if n in current and rnd.random() < 0.1:
                    del current[n]
                else:
                    current[n] = (current.get(n, 0) + 1) % 4
            changes += 100
            state.apply_snapshot(
                "src", [make(n, v) for n, v in current.items()], max_delete_share=1.0
            )
            assert state.backlog() <= 100
        assert state.last_assigned_seq() >= 9_000  # the changes really happened
        replayed = HubCopy[bytes]().apply(as_pending(c) for c in state.pending(0, 1000))
        ours = {k: records.canonical_bytes(r) for k, r in state.load_records().items()}
        assert replayed.values() == ours
