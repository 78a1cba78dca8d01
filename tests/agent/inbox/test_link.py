"""The session's inbox half against a real gRPC SyncService over mutual TLS (fakehub.py):
deliveries stored, shown and acknowledged once; repeats and new streams change nothing;
answers sent after Welcome, resent until acknowledged, the verdict recorded; the daemon's
pump carrying answer files to the hub."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.client import Session
from agent.config import AgentConfig, load_config
from agent.inbox.answers import RawAnswer, parse_answer
from agent.inbox.inbox import Inbox
from agent.inbox.store import InboxStore
from agent.pki import load_tls
from agent.runner import Agent
from agent.state import AgentState
from agent.status import LiveStatus
from proto import pb
from tests.agent.inbox.fakehub import FakeHub
from tests.agent.inbox.items import CENTER, CountingSink, item_id, make_agent_dir, work_item
from tests.helpers.pki import session_pki
from tests.helpers.wait import aeventually


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(session_pki(), CENTER) as running:
        yield running


@pytest.fixture
def linked(hub: FakeHub, tmp_path: Path) -> AgentConfig:
    return load_config(make_agent_dir(tmp_path / "agent", hub.address, "poll_seconds = 0.2").config)


async def _session_while(
    config: AgentConfig, state: AgentState, sink: Any, until: Any, timeout: float = 30
) -> None:
    """Run one Session until ``until()`` (blocking, called in a thread) holds.

    A fresh Inbox per event loop, as in the daemon (its wake-up event belongs to the loop).
    """
    inbox = Inbox(config, state, sink)
    session = Session(
        config,
        state,
        load_tls(config.tls, config.center_id),
        asyncio.Event(),
        LiveStatus(state),
        inbox=inbox,
    )
    done = asyncio.Event()
    run = asyncio.create_task(session.run(done))
    waiting = asyncio.create_task(aeventually(lambda: asyncio.to_thread(until), timeout=timeout))
    try:
        await asyncio.wait({run, waiting}, return_when=asyncio.FIRST_COMPLETED)
        assert not run.done(), f"the session ended early: {run.exception()!r}"
        await waiting
    finally:
        waiting.cancel()
        done.set()
        await asyncio.wait_for(run, 30)


def _item_files(config: AgentConfig) -> dict[str, dict[str, Any]]:
    items = config.state_path.parent / "inbox" / "items"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(items.glob("*.json"))}


def test_deliveries_are_stored_shown_and_acknowledged_once(
    hub: FakeHub, linked: AgentConfig
) -> None:
    for n in (1, 2):
        hub.add_item(work_item(n))
    hub.add_withdrawal(item_id(2), "the company cancelled the request")
    with AgentState(linked.state_path, CENTER) as state:
        sink = CountingSink(linked)
        asyncio.run(_session_while(linked, state, sink, lambda: hub.acked == 3))
        assert hub.ack_log == [1, 2, 3] and hub.protocol_errors == []
        files = _item_files(linked)
        assert {k: v["state"] for k, v in files.items()} == {
            item_id(1): "new",
            item_id(2): "withdrawn",
        }

        # The hub lost its acks: a new stream resends all three, and the hub sends item 1
        # once more under a new seq. The center's inbox gets nothing new.
        hub.forget_acks()
        hub.add_item(work_item(1))
        puts = list(sink.puts)
        asyncio.run(_session_while(linked, state, sink, lambda: hub.acked == 4))
        assert sink.puts == puts
        assert hub.ack_log == [1, 2, 3, 1, 2, 3, 4] and hub.protocol_errors == []
        assert len(InboxStore(state).items()) == 2


def test_answers_go_out_after_welcome_and_the_verdict_is_kept(
    hub: FakeHub, linked: AgentConfig
) -> None:
    hub.add_item(work_item(1))
    hub.add_item(work_item(2))
    rejected = "the deadline passed on 2026-11-29; the request moved to another center"

    def verdict(answer: Any) -> tuple[int, str, int]:
        if answer.item_id == item_id(2):
            return pb.ANSWER_OUTCOME_REJECTED, rejected, pb.ITEM_STATE_EXPIRED
        return pb.ANSWER_OUTCOME_APPLIED, "", pb.ITEM_STATE_ACCEPTED

    hub.verdict = verdict
    with AgentState(linked.state_path, CENTER) as state:
        sink = CountingSink(linked)
        store = InboxStore(state)
        asyncio.run(_session_while(linked, state, sink, lambda: hub.acked == 2))
        # Answered while no session runs (the CLI, or staff with the agent offline).
        store.queue_answer(parse_answer(RawAnswer(item_id(1), "accept", by="a"), linked.zone))
        hub.ack_answers = False

        asyncio.run(_session_while(linked, state, sink, lambda: len(hub.answers) == 1))
        assert store.counts().unacked == 1  # sent, never acknowledged: kept

        hub.ack_answers = True

        queued_at: list[float] = []

        async def second() -> None:
            def answered_by_cli_meanwhile() -> bool:
                # Another process queues an answer while the session runs: it goes out
                # within the outbox re-check, without any wake-up from this process.
                if store.item(item_id(2)).answer is not None:  # type: ignore[union-attr]
                    return store.counts().unacked == 0
                if store.counts().unacked == 0:  # the resent answer 1 was acknowledged
                    answer = RawAnswer(item_id(2), "decline", reason="no-capacity")
                    store.queue_answer(parse_answer(answer, linked.zone))
                    queued_at.append(time.monotonic())
                return False

            await _session_while(linked, state, sink, answered_by_cli_meanwhile)
            assert time.monotonic() - queued_at[0] < 3  # the ~1 s re-check, not a reconnect

        asyncio.run(second())
        assert [(a.answer_seq, a.item_id) for a in hub.answers] == [
            (1, item_id(1)),
            (1, item_id(1)),  # resent on the new stream until acknowledged
            (2, item_id(2)),
        ]
        first, second_item = store.item(item_id(1)), store.item(item_id(2))
        assert first is not None and second_item is not None
        assert (first.hub_outcome, first.hub_state) == ("applied", "accepted")
        assert (second_item.hub_outcome, second_item.hub_message) == ("rejected", rejected)
        assert second_item.state == "answered"  # visible in `requests list` with the message
        assert store.counts().rejected == 1
        assert _item_files(linked)[item_id(2)]["hub_message"] == rejected


def test_the_daemon_carries_answer_files_to_the_hub_and_back(
    hub: FakeHub, linked: AgentConfig
) -> None:
    """Agent.run end to end: delivery -> item file -> answer file -> hub -> verdict in file."""
    hub.add_item(work_item(1))
    answers_dir = linked.state_path.parent / "inbox" / "answers"

    async def main() -> dict[str, Any]:
        agent = Agent(linked, shutdown_timeout=5)
        run = asyncio.create_task(agent.run())
        try:
            await aeventually(lambda: asyncio.to_thread(lambda: hub.acked == 1), timeout=30)
            path = answers_dir / "from-staff.json"
            path.write_text(
                json.dumps({"item_id": item_id(1), "answer": "accept", "by": "이담당"}),
                encoding="utf-8",
            )
            past = time.time() - 5
            os.utime(path, (past, past))

            def shown() -> dict[str, Any] | None:
                doc = _item_files(linked).get(item_id(1), {})
                return doc if doc.get("hub_outcome") == "applied" else None

            return await aeventually(lambda: asyncio.to_thread(shown), timeout=30)
        finally:
            agent.shutdown()
            await run

    doc = asyncio.run(main())
    assert (doc["state"], doc["answer"]["by"], doc["hub_state"]) == (
        "answered",
        "이담당",
        "accepted",
    )
    assert [(a.item_id, a.answered_by) for a in hub.answers] == [(item_id(1), "이담당")]
    assert os.listdir(answers_dir / "done") == ["from-staff.json"]
    assert hub.protocol_errors == []
