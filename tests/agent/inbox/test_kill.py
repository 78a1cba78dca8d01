"""``kill -9`` of the agent at random instants while requests arrive and staff answer: every
item reaches the inbox exactly once, every answer file reaches the hub as one answer, and
nothing is left behind or bounced."""

from __future__ import annotations

import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path

import pytest

from agent.config import load_config
from agent.inbox.store import InboxStore
from agent.state import AgentState
from tests.agent.inbox.fakehub import FakeHub
from tests.agent.inbox.items import CENTER, item_id, make_agent_dir, work_item
from tests.helpers.agentenv import start_agent
from tests.helpers.pki import session_pki
from tests.helpers.wait import eventually

ROUNDS = 6
PER_ROUND = 5


def _drop_answer(answers: Path, n: int) -> None:
    """As staff would: written elsewhere, then moved in whole."""
    answers.mkdir(parents=True, exist_ok=True)
    tmp = answers.parent / f".answer-{n}.tmp"
    tmp.write_text(json.dumps({"item_id": item_id(n), "answer": "accept", "by": "kim"}))
    past = time.time() - 5
    os.utime(tmp, (past, past))
    os.replace(tmp, answers / f"answer-{n}.json")


@pytest.mark.slow
def test_sigkill_at_any_instant_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("IPLAT_TEST_SEED", "0")) or random.randrange(1 << 30)
    rng = random.Random(seed)
    with FakeHub(session_pki(), CENTER) as hub:
        ad = make_agent_dir(tmp_path / "agent", hub.address, "poll_seconds = 0.2")
        config = load_config(ad.config)
        inbox = config.state_path.parent / "inbox"
        withdrawn: set[int] = set()
        answered: set[int] = set()
        n = 0
        for round_no in range(ROUNDS):
            for _ in range(PER_ROUND):
                n += 1
                hub.add_item(work_item(n))
            agent = start_agent(ad, log_name=f"agent-{round_no}.log")
            # Withdrawals (items n % 5 == 0) and answers (n % 5 == 1) race with the kill.
            deadline = time.monotonic() + rng.uniform(0.3, 2.5)
            while time.monotonic() < deadline:
                shown = {int(p.stem.split("-")[2]) for p in (inbox / "items").glob("*.json")}
                for k in sorted(shown - answered):
                    if k % 5 == 1 and rng.random() < 0.5:
                        _drop_answer(inbox / "answers", k)
                        answered.add(k)
                for k in sorted(shown - withdrawn):
                    if k % 5 == 0 and rng.random() < 0.5:
                        hub.add_withdrawal(item_id(k), f"withdrawn in round {round_no}")
                        withdrawn.add(k)
                time.sleep(0.05)
            agent.kill()

        agent = start_agent(ad, log_name="agent-final.log")
        try:

            def settled() -> bool:
                with AgentState(config.state_path, CENTER) as state:
                    store = InboxStore(state)
                    return (
                        hub.acked == len(hub.deliveries)
                        and store.counts().unacked == 0
                        and len(store.unacked_answers(0)) == 0
                        and not store.pending_handover()
                        and len({a.item_id for a in hub.answers}) == len(answered)
                    )

            # Settled only by this agent's work: the last killed one may have done it all.
            eventually(lambda: agent.events("session_start"), timeout=30, what="final agent up")
            # The rest of the answers once every item has arrived (an answer to an item not
            # received yet is bounced, rightly).
            eventually(lambda: hub.acked == len(hub.deliveries), timeout=30, what="delivered")
            for k in range(1, n + 1):
                if k % 5 == 1 and k not in answered:
                    _drop_answer(inbox / "answers", k)
                    answered.add(k)
            eventually(settled, timeout=60, interval=0.2, what=f"seed {seed}")
        except AssertionError as exc:
            agent.kill()
            raise AssertionError(
                f"{exc}; seed {seed}; hub acked {hub.acked} of {len(hub.deliveries)}, "
                f"answers for {sorted({a.item_id for a in hub.answers})}, answered {answered}; "
                f"final agent log: {agent.log_text()[-4000:]}"
            ) from None
        assert agent.stop() == 0, agent.log_text()[-3000:]

    assert hub.protocol_errors == [], seed
    files = {p.stem: json.loads(p.read_text()) for p in (inbox / "items").glob("*.json")}
    assert set(files) == {item_id(k) for k in range(1, n + 1)}, seed
    for k in range(1, n + 1):
        doc = files[item_id(k)]
        assert doc["state"] == (
            "withdrawn" if k in withdrawn else "answered" if k in answered else "new"
        )
        if k in answered:
            assert doc["hub_outcome"] == "applied", (seed, doc)
    # Every answer file was queued once: one answer_seq per item, resends included.
    seqs: dict[str, set[int]] = defaultdict(set)
    for a in hub.answers:
        seqs[a.item_id].add(int(a.answer_seq))
    assert {k: len(v) for k, v in seqs.items()} == {item_id(k): 1 for k in answered}, seed
    assert sorted(os.listdir(inbox / "answers" / "done")) == sorted(
        f"answer-{k}.json" for k in answered
    )
    assert os.listdir(inbox / "answers" / "rejected") == []
    assert sorted(os.listdir(inbox / "answers")) == ["done", "rejected"]
    assert not list((inbox / "items").glob(".*")), "temporary files left behind"
