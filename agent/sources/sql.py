"""A center's own database: any SQLAlchemy URL and two read-only queries.

``equipment_query`` and ``calendar_query`` (either may be empty) return rows
whose columns carry the canonical names of agent.sources.csv (or the names
mapped under ``[sources.columns]``); matching ignores case because PostgreSQL
folds unquoted aliases to lower case. Native values are taken as they come:
``timestamp`` columns without a zone are the center's local time, arrays can
hold capabilities, stages and services. Only the canonical columns are read.

A bad row is a Problem ("query calendar_query row 5: ..."); a database that
cannot be reached, or a query that fails, fails the whole read (SourceError
with the URL, password masked) and the agent keeps the last good data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from iplatform.v1 import message_pb2 as m
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from agent.errors import SourceError
from agent.sources import fields
from agent.sources.base import IdTracker, Problem, Snapshot, Source
from proto.records import Record

if TYPE_CHECKING:
    from agent.config import SourceConfig


class SqlSource(Source):
    def __init__(self, config: SourceConfig, timezone: ZoneInfo) -> None:
        super().__init__(config)
        self.tz = timezone
        self._engine: Engine | None = None

    @property
    def safe_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        try:
            return make_url(self.config.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<invalid URL>"

    def watch_paths(self) -> list[Path]:
        return []

    def _where(self) -> str:
        return f"source {self.name!r} ({self.safe_url})"

    def engine(self) -> Engine:
        # Created on first use, so a missing driver is a read error the agent reports
        # and retries, not a crash at start-up.
        if self._engine is None:
            try:
                self._engine = create_engine(self.config.url, pool_pre_ping=True)
            except (ArgumentError, ImportError) as exc:
                raise SourceError(
                    f"{self._where()}: cannot use this database URL ({exc}); check 'url' in "
                    "agent.toml and that the database driver (e.g. psycopg) is installed"
                ) from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def read(self) -> Snapshot:
        snap = Snapshot()
        queries: list[tuple[str, str, Sequence[str], Callable[[Mapping[str, object]], Any]]] = [
            (
                "equipment_query",
                self.config.equipment_query,
                fields.EQUIPMENT_COLUMNS,
                fields.build_equipment,
            ),
            (
                "calendar_query",
                self.config.calendar_query,
                fields.CALENDAR_COLUMNS,
                lambda row: fields.build_entry(row, self.tz),
            ),
        ]
        try:
            with self.engine().connect() as conn:
                for name, query, columns, build in queries:
                    if not query.strip():
                        continue
                    result = conn.execute(text(query))
                    index = self._columns(name, list(result.keys()), columns)
                    ids = IdTracker()
                    for number, raw in enumerate(result, 1):
                        row = {canon: raw[i] for canon, i in index.items()}
                        self._row(name, number, build(row), ids, snap)
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SourceError(
                f"{self._where()}: the database read failed ({type(exc).__name__}: {detail}); "
                "check that the database is running and reachable, the user and password, "
                "and run the query in the database's own client to test it"
            ) from None
        return snap

    def _columns(self, query: str, returned: list[str], canonical: Sequence[str]) -> dict[str, int]:
        found = {c.lower(): i for i, c in reversed(list(enumerate(returned)))}
        mapping = self.config.columns
        index = {
            canon: found[mapping.get(canon, canon).lower()]
            for canon in canonical
            if mapping.get(canon, canon).lower() in found
        }
        required = (
            fields.EQUIPMENT_REQUIRED if query == "equipment_query" else fields.CALENDAR_REQUIRED
        )
        missing = [c for c in required if c not in index]
        if missing:
            wanted = ", ".join(f"{c} (as {mapping[c]!r})" if c in mapping else c for c in missing)
            raise SourceError(
                f"{self._where()}: {query} returns no column {wanted}; it returns: "
                f"{', '.join(returned)}. Alias the columns in the query (SELECT x AS id) or map "
                "them under [sources.columns]"
            )
        return index

    def _row(
        self,
        query: str,
        number: int,
        built: tuple[Record, list[str]],
        ids: IdTracker,
        snap: Snapshot,
    ) -> None:
        record, issues = built

        def problem(message: str) -> None:
            snap.problems.append(Problem(self.name, query, number, message, origin="query"))

        if issues:
            problem("; ".join(issues))
            return
        first = ids.claim(record.id, f"row {number}")
        if first is not None:
            problem(f"duplicate id {record.id!r} (first at {first}); this row is ignored")
        elif isinstance(record, m.Equipment):
            snap.equipment.append(record)
        else:
            snap.entries.append(record)
