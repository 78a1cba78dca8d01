"""The inbox tables: idempotent deliveries, the crash windows between state, sink and ack,
answers numbered and acknowledged, and the upgrade of a version-1 state file."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from agent import state_schema
from agent.config import AgentConfig
from agent.inbox.answers import Answer, AnswerInvalid, RawAnswer, parse_answer
from agent.inbox.inbox import Inbox
from agent.inbox.store import InboxStore
from agent.state import AgentState
from proto import pb
from tests.agent.inbox.items import (
    CENTER,
    CountingSink,
    confirmation,
    item_delivery,
    item_id,
    withdrawal,
)


def _inbox(config: AgentConfig, state: AgentState) -> tuple[Inbox, CountingSink]:
    sink = CountingSink(config)
    return Inbox(config, state, sink), sink


def _files(config: AgentConfig) -> list[str]:
    items = config.state_path.parent / "inbox" / "items"
    return sorted(p.name for p in items.iterdir())


def _answer(config: AgentConfig, n: int = 1, kind: str = "accept", **kw: str) -> Answer:
    return parse_answer(RawAnswer(item_id(n), kind, **kw), config.zone)


def test_the_same_delivery_twice_is_one_item_and_one_write(
    config: AgentConfig, state: AgentState
) -> None:
    inbox, sink = _inbox(config, state)
    first = inbox.receive(item_delivery(1))
    again = inbox.receive(item_delivery(1))
    assert (first.changed, again.changed) == (True, False)
    assert sink.puts == [(item_id(1), "new")]
    assert _files(config) == [f"{item_id(1)}.json"]
    store = InboxStore(state)
    assert [i.item_id for i in store.items()] == [item_id(1)]
    assert store.last_delivery_seq() == 1
    # The hub numbering the same item again (its seq counter restored) finds it too.
    assert not inbox.receive(item_delivery(7)).changed
    assert store.item(item_id(1)).delivery_seq == 1  # type: ignore[union-attr]
    assert store.last_delivery_seq() == 7


def test_committed_but_not_handed_over_is_handed_over_once_at_restart(
    config: AgentConfig, state: AgentState
) -> None:
    # The crash: the transaction committed, the agent died before writing the sink.
    InboxStore(state).store_delivery(item_delivery(1))
    assert not (config.state_path.parent / "inbox" / "items").exists()

    inbox, sink = _inbox(config, state)  # the restarted agent
    assert inbox.handover_pending() == 1
    assert inbox.handover_pending() == 0
    assert sink.puts == [(item_id(1), "new")]
    # The hub resends the delivery it never got an ack for: nothing is written again.
    inbox.receive(item_delivery(1))
    assert sink.puts == [(item_id(1), "new")]
    assert _files(config) == [f"{item_id(1)}.json"]


def test_written_but_not_marked_is_written_again_as_the_same_file(
    config: AgentConfig, state: AgentState
) -> None:
    store = InboxStore(state)
    store.store_delivery(item_delivery(1))
    sink = CountingSink(config)
    sink.prepare()
    sink.put(store.pending_handover()[0])  # ... and the agent dies before marking it
    inbox, second = _inbox(config, state)
    assert inbox.handover_pending() == 1
    assert second.puts == [(item_id(1), "new")]
    assert _files(config) == [f"{item_id(1)}.json"]
    assert not store.pending_handover()


def test_a_change_during_the_sink_write_is_handed_over_again(
    config: AgentConfig, state: AgentState
) -> None:
    store = InboxStore(state)
    store.store_delivery(item_delivery(1))
    seen = store.pending_handover()[0]
    store.store_delivery(withdrawal(2, item_id(1)))  # arrives while the old one is written
    assert not store.mark_handed_over(seen.item_id, seen.revision)
    inbox, sink = _inbox(config, state)
    inbox.handover_pending()
    assert sink.puts == [(item_id(1), "withdrawn")]


def test_withdrawal_rewrites_the_item_and_repeats_change_nothing(
    config: AgentConfig, state: AgentState
) -> None:
    inbox, sink = _inbox(config, state)
    inbox.receive(item_delivery(1))
    stored = inbox.receive(withdrawal(2, item_id(1), "the company cancelled"))
    assert (stored.body, stored.changed, stored.known) == ("withdrawal", True, True)
    assert not inbox.receive(withdrawal(2, item_id(1), "the company cancelled")).changed
    assert not inbox.receive(item_delivery(1)).changed  # an old replay cannot revive it
    assert sink.puts == [(item_id(1), "new"), (item_id(1), "withdrawn")]
    doc = json.loads(
        (config.state_path.parent / "inbox" / "items" / f"{item_id(1)}.json").read_text()
    )
    assert (doc["state"], doc["withdrawn_reason"]) == ("withdrawn", "the company cancelled")


def test_a_confirmation_marks_the_proposal_agreed_once(
    config: AgentConfig, state: AgentState
) -> None:
    inbox, sink = _inbox(config, state)
    inbox.receive(item_delivery(1))
    start = 1_800_000_000
    stored = inbox.receive(confirmation(2, item_id(1), start, start + 4 * 3600))
    assert (stored.body, stored.changed, stored.known) == ("confirmation", True, True)
    assert not inbox.receive(confirmation(2, item_id(1), start, start + 4 * 3600)).changed
    assert len(sink.puts) == 2  # shown once when new, once when agreed
    doc = json.loads(
        (config.state_path.parent / "inbox" / "items" / f"{item_id(1)}.json").read_text()
    )
    assert doc["hub_state"] == "accepted"
    assert "2027-01-15T08:00:00Z" in doc["hub_message"]


def test_withdrawal_of_an_item_the_state_lost_still_marks_its_file(
    config: AgentConfig, tmp_path: Path
) -> None:
    with AgentState(config.state_path, CENTER) as state:
        Inbox(config, state).receive(item_delivery(1))
    config.state_path.unlink()  # state lost; the inbox folder survives
    with AgentState(config.state_path, CENTER) as state:
        stored = Inbox(config, state).receive(withdrawal(2, item_id(1), "reassigned"))
        assert (stored.changed, stored.known) == (False, False)
        assert InboxStore(state).items() == []
    doc = json.loads(
        (config.state_path.parent / "inbox" / "items" / f"{item_id(1)}.json").read_text()
    )
    assert (doc["state"], doc["withdrawn_reason"]) == ("withdrawn", "reassigned")
    # ... and one for an item nobody ever saw is simply acknowledged.
    with AgentState(config.state_path, CENTER) as state:
        assert not Inbox(config, state).receive(withdrawal(3, "RQ-NEVERSEEN0-1-1")).known


def test_answers_are_numbered_sent_and_acknowledged(config: AgentConfig, state: AgentState) -> None:
    store = InboxStore(state)
    store.store_delivery(item_delivery(1))
    store.store_delivery(item_delivery(2, 2))
    q1 = store.queue_answer(_answer(config, 1))
    q2 = store.queue_answer(_answer(config, 2, "decline", reason="no-capacity"))
    assert (q1.seq, q2.seq) == (1, 2)
    sent = store.unacked_answers(0)
    assert [(a.answer_seq, a.item_id, a.kind) for a in sent] == [
        (1, item_id(1), pb.ANSWER_KIND_ACCEPT),
        (2, item_id(2), pb.ANSWER_KIND_DECLINE),
    ]
    assert not sent[0].HasField("start")  # accept of the suggested slot
    assert sent[1].decline_reason == pb.DECLINE_REASON_NO_CAPACITY
    assert [a.answer_seq for a in store.unacked_answers(1)] == [2]
    assert store.counts().unacked == 2 and store.counts().waiting == 0

    item = store.ack_answer(
        pb.AnswerAck(
            answer_seq=1,
            item_id=item_id(1),
            outcome=pb.ANSWER_OUTCOME_APPLIED,
            item_state=pb.ITEM_STATE_ACCEPTED,
        )
    )
    assert item is not None
    assert (item.state, item.hub_outcome, item.hub_state) == ("answered", "applied", "accepted")
    assert not item.handed_over  # the sink shows the verdict next
    assert [a.answer_seq for a in store.unacked_answers(0)] == [2]
    assert store.ack_answer(pb.AnswerAck(answer_seq=99)) is None


def test_item_rules_when_queueing(config: AgentConfig, state: AgentState) -> None:
    store = InboxStore(state)
    store.store_delivery(item_delivery(1))
    store.store_delivery(item_delivery(2, 2))
    store.store_delivery(withdrawal(3, item_id(2), "the company cancelled"))

    with pytest.raises(AnswerInvalid) as unknown:
        store.queue_answer(_answer(config, 9))
    assert f"open requests: {item_id(1)}" in str(unknown.value)
    with pytest.raises(AnswerInvalid, match=r"took .* back \(the company cancelled\)"):
        store.queue_answer(_answer(config, 2))

    store.queue_answer(_answer(config, 1))
    with pytest.raises(AnswerInvalid, match="has not confirmed it yet"):
        store.queue_answer(_answer(config, 1, "decline", reason="other"))
    store.ack_answer(
        pb.AnswerAck(
            answer_seq=1,
            outcome=pb.ANSWER_OUTCOME_REJECTED,
            message="start is outside the equipment's hours",
        )
    )
    assert store.counts().rejected == 1
    # A rejected answer may be replaced; the rejection stays on record.
    q = store.queue_answer(_answer(config, 1, "decline", reason="other"))
    assert q.seq == 2
    history = store.answers_of(item_id(1))
    assert [(h["seq"], h["outcome"]) for h in history] == [(1, "rejected"), (2, "")]
    store.ack_answer(pb.AnswerAck(answer_seq=2, outcome=pb.ANSWER_OUTCOME_APPLIED))
    with pytest.raises(AnswerInvalid, match="the hub applied it"):
        store.queue_answer(_answer(config, 1))


def test_the_same_origin_is_queued_once(config: AgentConfig, state: AgentState) -> None:
    store = InboxStore(state)
    store.store_delivery(item_delivery(1))
    first = store.queue_answer(_answer(config, 1), origin="folder:a.json:abc")
    again = store.queue_answer(_answer(config, 1), origin="folder:a.json:abc")
    assert (first.repeat, again.repeat, again.seq) == (False, True, first.seq)
    assert store.queued_origin("folder:a.json:abc") == again
    assert len(store.unacked_answers(0)) == 1


def test_a_version_1_state_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(state_schema._SCHEMA_V1)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("format_version", "1"), ("center_id", CENTER), ("last_assigned_seq", "5"),
         ("last_acked_seq", "3"), ("created_at", repr(time.time()))],
    )  # fmt: skip
    conn.execute(
        "INSERT INTO outbox (kind, id, seq, deleted, payload) VALUES (1, 'EQ-1', 5, 1, NULL)"
    )
    conn.commit()
    conn.close()
    with AgentState(path, CENTER) as state:
        assert state.get_meta("format_version") == "2"
        assert (state.last_assigned_seq(), state.backlog()) == (5, 1)
        store = InboxStore(state)
        assert store.last_delivery_seq() == 0 and store.counts().waiting == 0
        store.store_delivery(item_delivery(4))
        assert store.last_delivery_seq() == 4
    # A new file gets the same tables as an upgraded one.
    fresh = sqlite3.connect(tmp_path / "fresh.db")
    AgentState(tmp_path / "fresh.db", CENTER).close()
    upgraded = sqlite3.connect(path)
    schema = "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    assert fresh.execute(schema).fetchall() == upgraded.execute(schema).fetchall()
    fresh.close()
    upgraded.close()


def test_inbox_meta_keys_are_reserved(state: AgentState) -> None:
    for key in (state_schema.K_DELIVERY_SEQ, state_schema.K_ANSWER_SEQ):
        with pytest.raises(ValueError, match="managed by AgentState"):
            state.set_meta(key, "0")
