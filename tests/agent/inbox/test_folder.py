"""The folder inbox: item files written whole, answers picked up, bad answers bounced with
an explanation (nothing lost), the hub's verdict shown, an unusable folder survived."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentConfig
from agent.inbox.folder import FolderSink
from agent.inbox.inbox import Inbox
from agent.inbox.store import InboxStore
from agent.state import AgentState
from proto import pb
from tests.agent.inbox.items import REQUEST, ahead, item_delivery, item_id, withdrawal


@pytest.fixture
def inbox(config: AgentConfig, state: AgentState) -> Inbox:
    return Inbox(config, state)


def _dir(config: AgentConfig) -> Path:
    return config.state_path.parent / "inbox"


def _item_file(config: AgentConfig, n: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (_dir(config) / "items" / f"{item_id(n)}.json").read_text(encoding="utf-8")
    )
    return data


def _drop_answer(config: AgentConfig, name: str, content: str | dict[str, Any]) -> Path:
    """An answer file as staff leave it, old enough to count as finished."""
    path = _dir(config) / "answers" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    past = time.time() - 10
    os.utime(path, (past, past))
    return path


def test_item_file_is_complete_readable_json(config: AgentConfig, inbox: Inbox) -> None:
    inbox.receive(item_delivery(1))
    doc = _item_file(config)
    assert (doc["format"], doc["item_id"], doc["request_id"], doc["state"]) == (
        "iplat-inbox-item/1",
        item_id(1),
        REQUEST,
        "new",
    )
    assert doc["company"] == {
        "name": "(주)배터리랩",
        "business_number": "123-45-67890",
        "contact_name": "김연구",
        "contact_email": "kim@battery.example.kr",
        "contact_phone": "010-1234-5678",
    }
    assert doc["coordinator"] == {
        "center_id": "KR-RP-0001",
        "name": "대표기관",
        "industry": "materials",
    }
    need = doc["need"]
    assert (need["stage"], need["service"], need["capabilities"], need["hours"]) == (
        "prototype",
        "test-analysis",
        ["cycling", "impedance"],
        3.0,
    )
    # Local time with the center's offset, and UTC, for every instant.
    assert doc["deadline"].endswith("+09:00") and doc["deadline_utc"].endswith("Z")
    slot = doc["suggested_slot"]
    assert slot["start"].endswith("T09:00+09:00") and slot["end"].endswith("T12:00+09:00")
    how = doc["how_to_answer"]
    assert f"iplat-agent requests accept {item_id(1)} --config {config.path}" in how
    assert str(_dir(config) / "answers") in how and '"answer": "accept"' in how
    # Written whole: no temporary files left beside it, Korean kept readable.
    assert os.listdir(_dir(config) / "items") == [f"{item_id(1)}.json"]
    assert "배터리랩" in (_dir(config) / "items" / f"{item_id(1)}.json").read_text("utf-8")


def test_an_answer_file_is_queued_moved_and_shown(
    config: AgentConfig, state: AgentState, inbox: Inbox
) -> None:
    inbox.receive(item_delivery(1))
    path = _drop_answer(
        config,
        "reply.json",
        {"item_id": item_id(1), "answer": "propose", "start": ahead(30, 13),
         "end": ahead(30, 16), "message": "오후만 가능", "by": "이담당"},
    )  # fmt: skip
    assert inbox.poll() == 1
    assert not path.exists()
    assert (_dir(config) / "answers" / "done" / "reply.json").exists()
    answers = InboxStore(state).unacked_answers(0)
    assert [(a.item_id, a.kind, a.answered_by) for a in answers] == [
        (item_id(1), pb.ANSWER_KIND_PROPOSE, "이담당")
    ]
    doc = _item_file(config)
    assert doc["state"] == "answered"
    assert (doc["answer"]["answer"], doc["answer"]["start"]) == (
        "propose",
        f"{ahead(30, 13)}+09:00",
    )
    assert doc["answer"]["sent_and_acknowledged"] is False

    inbox.record_ack(
        pb.AnswerAck(
            answer_seq=1,
            item_id=item_id(1),
            outcome=pb.ANSWER_OUTCOME_REJECTED,
            message="the request was cancelled meanwhile",
            item_state=pb.ITEM_STATE_WITHDRAWN,
        )
    )
    doc = _item_file(config)
    assert (doc["hub_outcome"], doc["hub_message"], doc["hub_state"]) == (
        "rejected",
        "the request was cancelled meanwhile",
        "withdrawn",
    )
    assert inbox.poll() == 0  # nothing new, nothing picked up twice


def test_a_file_still_being_written_waits(config: AgentConfig, inbox: Inbox) -> None:
    inbox.receive(item_delivery(1))
    path = _drop_answer(config, "a.json", {"item_id": item_id(1), "answer": "accept"})
    now = time.time()
    os.utime(path, (now, now))
    assert inbox.poll() == 0 and path.exists()
    os.utime(path, (now - 5, now - 5))
    assert inbox.poll() == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"item_id": "x", "answer": "accept",}', "not valid JSON (line 1, column 37"),
        ('["accept"]', "must be one JSON object"),
        ('{"item_id": "%s", "answer": "accept", "when": "now"}', "when: not a known key"),
        ('{"item_id": "%s", "answer": "decline", "reason": 3}', "reason: must be text in quotes"),
        ('{"item_id": "%s", "answer": "decline"}', "reason: a decline needs one of: no-capacity"),
        ('{"item_id": "RQ-NOPE-1-1", "answer": "accept"}', "open requests: %s"),
        ('{"item_id": "%s-2", "answer": "accept"}', "no request"),
    ],
)
def test_a_bad_answer_goes_to_rejected_with_the_reason_beside_it(
    config: AgentConfig,
    state: AgentState,
    inbox: Inbox,
    caplog: pytest.LogCaptureFixture,
    content: str,
    expected: str,
) -> None:
    inbox.receive(item_delivery(1))
    text = content.replace("%s", item_id(1))
    _drop_answer(config, "answer.json", text)
    caplog.set_level(logging.WARNING, logger="agent")
    assert inbox.poll() == 0
    rejected = _dir(config) / "answers" / "rejected"
    assert (rejected / "answer.json").read_text(encoding="utf-8") == text  # nothing lost
    explanation = (rejected / "answer.json.error.txt").read_text(encoding="utf-8")
    assert expected.replace("%s", item_id(1)) in explanation
    assert "put it back into" in explanation and '"answer": "accept"' in explanation
    assert InboxStore(state).unacked_answers(0) == []
    assert [r.getMessage() for r in caplog.records] == ["inbox_answer_refused"]


def test_answer_to_a_withdrawn_item_is_bounced_with_the_hubs_reason(
    config: AgentConfig, inbox: Inbox
) -> None:
    inbox.receive(item_delivery(1))
    inbox.receive(withdrawal(2, item_id(1), "the company cancelled the request"))
    _drop_answer(config, "late.json", {"item_id": item_id(1), "answer": "accept"})
    inbox.poll()
    error = (_dir(config) / "answers" / "rejected" / "late.json.error.txt").read_text("utf-8")
    assert "the hub took" in error and "the company cancelled the request" in error


def test_a_crash_between_queueing_and_moving_does_not_queue_twice(
    config: AgentConfig, state: AgentState, inbox: Inbox
) -> None:
    inbox.receive(item_delivery(1))
    _drop_answer(config, "a.json", {"item_id": item_id(1), "answer": "accept"})
    sink = FolderSink(config, _dir(config))
    (found,) = sink.pick_up()
    assert found.raw is not None
    from agent.inbox.answers import parse_answer

    InboxStore(state).queue_answer(parse_answer(found.raw, config.zone), origin=found.origin)
    # ... the agent dies before moving the file; the restarted one finds it again.
    assert Inbox(config, state).poll() == 0
    assert (_dir(config) / "answers" / "done" / "a.json").exists()
    assert len(InboxStore(state).unacked_answers(0)) == 1


def test_same_names_never_overwrite_each_other(config: AgentConfig, inbox: Inbox) -> None:
    for n in (1, 2):
        inbox.receive(item_delivery(n, n))
        _drop_answer(config, "answer.json", {"item_id": item_id(n), "answer": "accept"})
        assert inbox.poll() == 1
    done = sorted(os.listdir(_dir(config) / "answers" / "done"))
    assert done == ["answer.1.json", "answer.json"]


def test_an_unusable_folder_keeps_items_in_the_state_until_it_works(
    config: AgentConfig, state: AgentState, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the inbox folder should be")
    inbox = Inbox(config, state, FolderSink(config, blocked / "inbox"))
    caplog.set_level(logging.ERROR, logger="agent")
    inbox.receive(item_delivery(1))
    inbox.receive(item_delivery(2, 2))
    assert inbox.poll() == 0
    failures = [r for r in caplog.records if r.getMessage() == "inbox_sink_failed"]
    assert len(failures) == 1  # said once, not every poll
    assert "cannot create its folders" in failures[0].__dict__["iplat_fields"]["error"]
    assert len(InboxStore(state).pending_handover()) == 2
    blocked.unlink()
    inbox.poll()
    assert sorted(os.listdir(blocked / "inbox" / "items")) == [
        f"{item_id(1)}.json",
        f"{item_id(2)}.json",
    ]
    assert InboxStore(state).pending_handover() == []


def test_the_folder_is_shared_with_the_agents_group(config: AgentConfig, inbox: Inbox) -> None:
    # Staff read items and drop answers as members of the agent's group (the service
    # account's): the folders the agent made say so, and so do the files it writes.
    inbox.receive(item_delivery(1))
    root = config.state_path.parent / "inbox"
    modes = {
        name: os.stat(root / name).st_mode & 0o7777
        for name in ("", "items", "answers", "answers/done", "answers/rejected")
    }
    assert modes == {
        "": 0o2750,
        "items": 0o2750,
        "answers": 0o2770,
        "answers/done": 0o2770,
        "answers/rejected": 0o2770,
    }
    item = root / "items" / f"{item_id(1)}.json"
    assert os.stat(item).st_mode & 0o777 == 0o640


def test_a_folder_the_center_made_keeps_its_modes(config: AgentConfig, state: AgentState) -> None:
    root = config.state_path.parent / "inbox"
    (root / "answers").mkdir(parents=True)
    os.chmod(root / "answers", 0o2775)
    Inbox(config, state).receive(item_delivery(1))
    assert os.stat(root / "answers").st_mode & 0o7777 == 0o2775
