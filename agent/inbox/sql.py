"""The SQL inbox: a table in a database the center already uses (SQLite or PostgreSQL).

The agent creates the table when it is missing and inserts each item once (``ON CONFLICT
(item_id) DO NOTHING``); afterwards it only updates the columns it owns (state, the hub's
verdict, ``answer_picked_up``). Staff answer by filling ``answer`` (accept, decline,
propose) and, as the answer needs, ``answer_start``/``answer_end`` (ISO 8601 text; without
an offset the center's time), ``answer_reason``, ``answer_message``, ``answered_by``. The
agent picks up rows with an answer and ``answer_picked_up`` false, queues the answer and
sets ``answer_picked_up``; an answer it cannot send stays in the row, unpicked, with
``hub_message`` saying what to fix. After a rejection by the hub, correct the answer and set
``answer_picked_up`` to false to send it again.

Times the agent writes are ISO 8601 text with the center's offset (the same in every
database and readable without a cast); ``payload_json`` holds the whole item as in the
folder inbox.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    MetaData,
    Table,
    Text,
    create_engine,
    false,
    inspect,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from agent.errors import InboxError
from agent.inbox.answers import RawAnswer
from agent.inbox.render import item_json, local_iso
from agent.inbox.sinks import Found, Sink
from agent.inbox.store import InboxItem

if TYPE_CHECKING:
    from agent.config import AgentConfig

ANSWER_COLUMNS = (
    "answer",
    "answer_start",
    "answer_end",
    "answer_reason",
    "answer_message",
    "answered_by",
)


def make_table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("item_id", Text, primary_key=True),
        Column("request_id", Text, nullable=False),
        Column("received_at", Text),
        Column("state", Text, nullable=False),
        Column("withdrawn_reason", Text),
        Column("deadline", Text),
        Column("equipment_id", Text),
        Column("company_name", Text),
        Column("company_contact", Text),
        Column("project_title", Text),
        Column("stage", Text),
        Column("category", Text),
        Column("service", Text),
        Column("hours", Float),
        Column("window_start", Text),
        Column("window_end", Text),
        Column("suggested_start", Text),
        Column("suggested_end", Text),
        Column("payload_json", Text),
        *(Column(c, Text) for c in ANSWER_COLUMNS),
        Column("answer_picked_up", Boolean, nullable=False, server_default=false()),
        Column("hub_outcome", Text),
        Column("hub_message", Text),
    )


def _text(value: object) -> str:
    """A cell staff filled, as text (a timestamp column someone made is welcome too)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class SqlSink(Sink):
    kind = "sql"

    def __init__(self, config: AgentConfig) -> None:
        super().__init__(config)
        self.table = make_table(config.inbox.table)
        self._engine: Engine | None = None

    @property
    def safe_url(self) -> str:
        try:
            return make_url(self.config.inbox.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<invalid URL>"

    def _fail(self, what: str, exc: Exception) -> InboxError:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return InboxError(
            f"inbox table {self.table.name} in {self.safe_url}: cannot {what} "
            f"({type(exc).__name__}: {detail}); check that the database runs and the agent's "
            "user may create, read and write the table. Requests are kept in the state "
            "database and written once it works"
        )

    def engine(self) -> Engine:
        if self._engine is None:
            url = make_url(self.config.inbox.url)
            args: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql":
                # A database that does not answer must not hold the sync stream for minutes.
                args["connect_timeout"] = 10
            try:
                self._engine = create_engine(url, pool_pre_ping=True, connect_args=args)
            except (ArgumentError, ImportError) as exc:
                raise self._fail("use this URL (is the driver installed?)", exc) from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def prepare(self) -> None:
        try:
            engine = self.engine()
            self.table.metadata.create_all(engine, checkfirst=True)
            have = {c["name"] for c in inspect(engine).get_columns(self.table.name)}
        except SQLAlchemyError as exc:
            raise self._fail("create or inspect the table", exc) from None
        missing = [c.name for c in self.table.columns if c.name not in have]
        if missing:
            raise InboxError(
                f"inbox table {self.table.name} in {self.safe_url} exists but lacks the "
                f"columns {', '.join(missing)}: add them, or set [inbox] table to a new name "
                "and let the agent create it"
            )

    # -- items --------------------------------------------------------------------------

    def _row(self, item: InboxItem) -> dict[str, Any]:
        w, zone = item.work, self.zone
        need, c = w.need, w.company
        doc = item_json(item, zone, self.how(item.item_id))
        contact = ", ".join(x for x in (c.contact_name, c.contact_email, c.contact_phone) if x)
        return {
            "item_id": item.item_id,
            "request_id": item.request_id,
            "received_at": doc["received_at"],
            "state": item.state,
            "withdrawn_reason": item.withdrawn_reason,
            "deadline": doc["deadline"],
            "equipment_id": w.equipment_id,
            "company_name": c.name,
            "company_contact": contact,
            "project_title": w.project_title,
            "stage": doc["need"]["stage"],
            "category": need.category,
            "service": doc["need"]["service"],
            "hours": need.hours,
            "window_start": doc["need"]["earliest"],
            "window_end": doc["need"]["latest"],
            "suggested_start": (doc["suggested_slot"] or {}).get("start"),
            "suggested_end": (doc["suggested_slot"] or {}).get("end"),
            "payload_json": json.dumps(doc, ensure_ascii=False),
            "hub_outcome": item.hub_outcome,
            "hub_message": item.hub_message,
        }

    def _answer_values(self, item: InboxItem) -> dict[str, Any]:
        a = item.answer
        assert a is not None
        return {
            "answer": a.kind,
            "answer_start": local_iso(a.start, self.zone),
            "answer_end": local_iso(a.end, self.zone),
            "answer_reason": a.reason,
            "answer_message": a.message,
            "answered_by": a.by,
            "answer_picked_up": True,
        }

    def put(self, item: InboxItem) -> None:
        t = self.table
        row = self._row(item)
        owned = {k: row[k] for k in ("state", "withdrawn_reason", "hub_outcome", "hub_message")}
        try:
            with self.engine().begin() as conn:
                self._insert_new(conn, row)
                conn.execute(update(t).where(t.c.item_id == item.item_id).values(**owned))
                if item.answer is not None:
                    # The answer the agent sent, unless staff are writing a new one in the
                    # row right now (an answer not picked up yet is theirs).
                    conn.execute(
                        update(t)
                        .where(
                            t.c.item_id == item.item_id,
                            or_(
                                t.c.answer_picked_up == true(),
                                t.c.answer.is_(None),
                                t.c.answer == "",
                            ),
                        )
                        .values(**self._answer_values(item))
                    )
        except SQLAlchemyError as exc:
            raise self._fail(f"write item {item.item_id}", exc) from None

    def _insert_new(self, conn: Any, row: dict[str, Any]) -> None:
        t = self.table
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(postgresql.insert(t).values(**row).on_conflict_do_nothing())
        elif dialect == "sqlite":
            conn.execute(sqlite.insert(t).values(**row).on_conflict_do_nothing())
        else:
            exists = conn.execute(select(t.c.item_id).where(t.c.item_id == row["item_id"]))
            if exists.first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(t.insert().values(**row))
                except IntegrityError:
                    pass  # inserted by a concurrent writer: the same item

    def withdraw_unknown(self, item_id: str, reason: str) -> None:
        t = self.table
        try:
            with self.engine().begin() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.item_id == item_id)
                    .values(state="withdrawn", withdrawn_reason=reason)
                )
        except SQLAlchemyError as exc:
            raise self._fail(f"withdraw item {item_id}", exc) from None

    # -- answers ------------------------------------------------------------------------

    def pick_up(self) -> list[Found]:
        t = self.table
        query = select(t.c.item_id, t.c.hub_message, *(t.c[c] for c in ANSWER_COLUMNS)).where(
            t.c.answer.is_not(None),
            t.c.answer != "",
            or_(t.c.answer_picked_up == false(), t.c.answer_picked_up.is_(None)),
        )
        try:
            with self.engine().connect() as conn:
                rows = conn.execute(query.order_by(t.c.item_id)).all()
        except SQLAlchemyError as exc:
            raise self._fail("read answers", exc) from None
        found = []
        for row in rows:
            item_id, hub_message, *cells = row
            values = [_text(v) for v in cells]
            digest = hashlib.sha256("\x1f".join([item_id, *values]).encode()).hexdigest()[:32]
            raw = RawAnswer(item_id, *values)
            handle = (item_id, hub_message)
            found.append(Found(f"sql:{item_id}:{digest}", f"row {item_id!r}", raw, [], handle))
        return found

    def done(self, found: Found, answer_seq: int) -> None:
        t = self.table
        item_id, _ = found.handle
        try:
            with self.engine().begin() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.item_id == item_id)
                    .values(answer_picked_up=True, hub_message="")
                )
        except SQLAlchemyError as exc:
            raise self._fail(f"mark the answer of {item_id} picked up", exc) from None

    def reject(self, found: Found, problems: list[str]) -> None:
        t = self.table
        item_id, old = found.handle
        message = "answer not sent: " + "; ".join(problems) + ". Correct the answer columns"
        if message == old:
            return  # told already: no write every poll
        try:
            with self.engine().begin() as conn:
                conn.execute(
                    update(t)
                    .where(
                        t.c.item_id == item_id,
                        or_(t.c.answer_picked_up == false(), t.c.answer_picked_up.is_(None)),
                    )
                    .values(hub_message=message)
                )
        except SQLAlchemyError as exc:
            raise self._fail(f"report the problem with the answer of {item_id}", exc) from None
