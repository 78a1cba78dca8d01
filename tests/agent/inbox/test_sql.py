"""The SQL inbox on real SQLite and PostgreSQL: the table made when missing, each item once,
staff answers picked up (or explained in hub_message), the agent's own columns kept current."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from agent.config import AgentConfig, load_config
from agent.errors import InboxError
from agent.inbox.answers import RawAnswer, parse_answer
from agent.inbox.inbox import Inbox
from agent.inbox.sql import SqlSink
from agent.inbox.store import InboxStore
from agent.state import AgentState
from proto import pb
from tests.agent.inbox.items import ahead, item_delivery, item_id, make_agent_dir, withdrawal


@pytest.fixture
def sql_config(tmp_path: Path, db_url: str) -> AgentConfig:
    ad = make_agent_dir(tmp_path / "agent", inbox=f'kind = "sql"\nurl = "{db_url}"')
    return load_config(ad.config)


@pytest.fixture
def sql_state(sql_config: AgentConfig) -> Iterator[AgentState]:
    with AgentState(sql_config.state_path, sql_config.center_id) as s:
        yield s


@pytest.fixture
def inbox(sql_config: AgentConfig, sql_state: AgentState) -> Iterator[Inbox]:
    box = Inbox(sql_config, sql_state)
    yield box
    box.close()


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def rows(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        result = conn.execute(text("SELECT * FROM iplat_requests ORDER BY item_id"))
        return [dict(r._mapping) for r in result]


def staff_answer(db: Engine, item: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    with db.begin() as conn:
        conn.execute(
            text(f"UPDATE iplat_requests SET {sets} WHERE item_id = :item_id"),
            {**values, "item_id": item},
        )


def test_items_are_inserted_once_with_readable_columns(inbox: Inbox, db: Engine) -> None:
    inbox.receive(item_delivery(1))
    inbox.receive(item_delivery(1))
    inbox.receive(item_delivery(2, 2))
    got = rows(db)
    assert [r["item_id"] for r in got] == [item_id(1), item_id(2)]
    row = got[0]
    assert (row["state"], row["company_name"], row["equipment_id"], row["stage"]) == (
        "new",
        "(주)배터리랩",
        "EQ-1",
        "prototype",
    )
    assert row["company_contact"] == "김연구, kim@battery.example.kr, 010-1234-5678"
    assert (row["service"], row["category"], row["hours"]) == ("test-analysis", "battery-cycler", 3)
    assert row["suggested_start"].endswith("T09:00+09:00")
    assert row["deadline"].endswith("+09:00") and row["window_end"].endswith("+09:00")
    assert json.loads(row["payload_json"])["item_id"] == item_id(1)
    assert not row["answer_picked_up"] and row["answer"] is None


def test_staff_answers_are_picked_up_and_the_verdict_shown(
    inbox: Inbox, db: Engine, sql_state: AgentState
) -> None:
    inbox.receive(item_delivery(1))
    staff_answer(
        db, item_id(1), answer="propose", answer_start=ahead(30, 13).replace("T", " "),
        answer_end=ahead(30, 16) + "+09:00", answer_message="오후만", answered_by="이담당",
    )  # fmt: skip
    assert inbox.poll() == 1
    (row,) = rows(db)
    assert row["answer_picked_up"] and row["state"] == "answered"
    assert row["answer_start"] == f"{ahead(30, 13)}+09:00"  # normalised by the agent
    (sent,) = InboxStore(sql_state).unacked_answers(0)
    assert (sent.kind, sent.message, sent.answered_by) == (
        pb.ANSWER_KIND_PROPOSE,
        "오후만",
        "이담당",
    )
    assert inbox.poll() == 0

    inbox.record_ack(
        pb.AnswerAck(
            answer_seq=sent.answer_seq,
            outcome=pb.ANSWER_OUTCOME_APPLIED,
            item_state=pb.ITEM_STATE_PROPOSED,
        )
    )
    (row,) = rows(db)
    assert (row["hub_outcome"], row["hub_message"]) == ("applied", "")


def test_an_answer_that_cannot_be_sent_is_explained_in_the_row(
    inbox: Inbox, db: Engine, sql_state: AgentState
) -> None:
    inbox.receive(item_delivery(1))
    staff_answer(db, item_id(1), answer="decline", answer_reason="too busy")
    assert inbox.poll() == 0
    (row,) = rows(db)
    assert not row["answer_picked_up"]
    assert row["hub_message"].startswith("answer not sent: reason: 'too busy' is not a reason")
    assert "Correct the answer columns" in row["hub_message"]
    staff_answer(db, item_id(1), answer_reason="no-capacity")
    assert inbox.poll() == 1
    (row,) = rows(db)
    assert row["answer_picked_up"] and row["hub_message"] == ""
    (sent,) = InboxStore(sql_state).unacked_answers(0)
    assert sent.decline_reason == pb.DECLINE_REASON_NO_CAPACITY


def test_withdrawal_and_cli_answers_update_the_agents_columns_only(
    sql_config: AgentConfig, inbox: Inbox, db: Engine, sql_state: AgentState
) -> None:
    inbox.receive(item_delivery(1))
    inbox.receive(item_delivery(2, 2))
    inbox.receive(withdrawal(3, item_id(2), "reassigned by the operator"))
    answer = parse_answer(RawAnswer(item_id(1), "accept", by="박센터"), sql_config.zone)
    InboxStore(sql_state).queue_answer(answer)  # as the CLI does, in another process
    inbox.poll()
    first, second = rows(db)
    assert (first["state"], first["answer"], first["answered_by"]) == (
        "answered",
        "accept",
        "박센터",
    )
    assert first["answer_picked_up"]  # the agent's own answer is never picked up again
    assert (second["state"], second["withdrawn_reason"]) == (
        "withdrawn",
        "reassigned by the operator",
    )
    assert inbox.poll() == 0


def test_a_row_kept_from_before_is_not_duplicated_or_overwritten(
    sql_config: AgentConfig, inbox: Inbox, db: Engine
) -> None:
    inbox.receive(item_delivery(1))
    staff_answer(db, item_id(1), answer="accept", answered_by="kept")
    # The state file is lost; the hub resends the item to the new one.
    sql_config.state_path.unlink()
    with AgentState(sql_config.state_path, sql_config.center_id) as fresh:
        box = Inbox(sql_config, fresh)
        box.receive(item_delivery(1))
        box.close()
    (row,) = rows(db)
    assert (row["answer"], row["answered_by"], row["state"]) == ("accept", "kept", "new")


def test_an_existing_table_without_the_columns_is_a_clear_error(
    sql_config: AgentConfig, db: Engine
) -> None:
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE iplat_requests (item_id TEXT PRIMARY KEY, note TEXT)"))
    sink = SqlSink(sql_config)
    with pytest.raises(InboxError, match="exists but lacks the columns request_id, received_at"):
        sink.prepare()
    sink.close()


def test_an_unreachable_database_is_an_error_that_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://agent:s3cret@127.0.0.1:1/nothing"
    config = load_config(
        make_agent_dir(tmp_path / "a", inbox=f'kind = "sql"\nurl = "{url}"').config
    )
    sink = SqlSink(config)
    with pytest.raises(InboxError) as exc:
        sink.prepare()
    assert "s3cret" not in str(exc.value) and "agent:***@127.0.0.1:1" in str(exc.value)
    assert "Requests are kept in the state database" in str(exc.value)
