"""``iplat-agent requests`` and the inbox lines of ``status``, in-process against tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.inbox.inbox import Inbox
from agent.inbox.store import InboxStore
from agent.state import AgentState
from proto import pb
from tests.agent.inbox.items import ahead, item_delivery, item_id, make_agent_dir, withdrawal
from tests.helpers.agentenv import AgentDir, run_agent_cli


def rq(ad: AgentDir, action: str, *rest: str) -> tuple[int, str, str]:
    """``iplat-agent requests ACTION --config agent.toml ARGS`` in-process."""
    return run_agent_cli("requests", action, "--config", str(ad.config), *rest)


@pytest.fixture
def received(agent_dir: AgentDir, config: AgentConfig) -> AgentDir:
    """Three items: 1 and 2 open, 3 withdrawn."""
    with AgentState(config.state_path, config.center_id) as state:
        inbox = Inbox(config, state)
        for n in (1, 2, 3):
            inbox.receive(item_delivery(n, n))
        inbox.receive(withdrawal(4, item_id(3), "the company cancelled the request"))
    return agent_dir


def test_list_shows_every_item_with_what_to_do(received: AgentDir) -> None:
    code, out, err = rq(received, "list")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [item_id(1), item_id(2), item_id(3)]
    assert "waiting for your answer, due" in lines[0] and "+0900 (in 1 d 23 h)" in lines[0]
    assert "withdrawn by the hub: the company cancelled the request" in lines[2]

    code, out, _ = rq(received, "list", "--state", "withdrawn", "--json")
    assert code == 0
    (only,) = json.loads(out)
    assert (only["item_id"], only["state"]) == (item_id(3), "withdrawn")
    code, out, _ = rq(received, "list", "--state", "answered")
    assert (code, out) == (0, "no requests in state answered\n")


def test_answering_from_the_cli_queues_for_the_running_agent(
    received: AgentDir, config: AgentConfig
) -> None:
    code, out, err = rq(received, "accept", item_id(1), "--by", "박센터")
    assert code == 0, err
    assert f"answer #1 queued for {item_id(1)}: accept of the suggested slot" in out
    assert "the agent is NOT running" in out
    assert f"iplat-agent requests show {item_id(1)} --config {received.config}" in out

    code, out, err = rq(
        received, "propose", item_id(2), "--start", ahead(30, 13),
        "--end", ahead(30, 17), "--message", "오후 가능",
    )  # fmt: skip
    assert code == 0, err
    assert "answer #2 queued" in out and f"propose {ahead(30, 13)}+09:00 – {ahead(30, 17)}" in out

    with AgentState(config.state_path, config.center_id) as state:
        sent = InboxStore(state).unacked_answers(0)
        assert [(a.item_id, a.kind, a.answered_by) for a in sent] == [
            (item_id(1), pb.ANSWER_KIND_ACCEPT, "박센터"),
            (item_id(2), pb.ANSWER_KIND_PROPOSE, sent[1].answered_by),
        ]
        InboxStore(state).ack_answer(
            pb.AnswerAck(
                answer_seq=2,
                outcome=pb.ANSWER_OUTCOME_REJECTED,
                message="the company withdrew this need",
            )
        )
    code, out, _ = rq(received, "show", item_id(2))
    assert code == 0
    assert "answered (propose) but the HUB REJECTED it: the company withdrew this need" in out
    assert "answer #2    queued" in out and "hub rejected: the company withdrew this need" in out
    assert "how to answer:" in out  # a rejected answer may be replaced
    code, out, _ = rq(received, "show", item_id(1), "--json")
    doc = json.loads(out)
    assert doc["answer"]["answer"] == "accept" and doc["answers"][0]["outcome"] == ""
    assert "iplat-agent requests decline" in doc["how_to_answer"]

    status = received.status()
    assert (status["requests_waiting"], status["answers_unacked"], status["answers_rejected"]) == (
        0,
        1,
        1,
    )
    code, out, _ = received.cli("status")
    assert (
        "requests     0 waiting for an answer, 1 answer(s) not yet acknowledged, 1 REJECTED" in out
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("decline", item_id(1), "--reason", "busy"), "reason: 'busy' is not a reason code"),
        (("decline", item_id(1)), "reason: a decline needs one of: no-capacity"),
        (("propose", item_id(1), "--start", ahead(30, 13)), "a proposal needs both"),
        (("accept", "RQ-NOPE", "--by", "x"), f"open requests: {item_id(1)}, {item_id(2)}"),
        (("accept", item_id(3)), "the hub took"),
        (("show", "RQ-NOPE"), f"no request 'RQ-NOPE' was received; open requests: {item_id(1)}"),
    ],
)
def test_errors_say_what_to_do(received: AgentDir, argv: tuple[str, ...], message: str) -> None:
    code, out, err = rq(received, *argv)
    assert code == 1 and out == ""
    assert err.startswith("iplat-agent requests: error: ")
    assert message in err
    if argv[:2] == ("accept", item_id(3)):
        assert "(the company cancelled the request)" in err


def test_before_the_agent_ever_ran(tmp_path: Path) -> None:
    ad = make_agent_dir(tmp_path / "fresh")
    code, _, err = rq(ad, "list")
    assert code == 1 and "the agent has not run yet, so no request has arrived" in err
    assert not ad.state_path.exists()
