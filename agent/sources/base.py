"""What every source gives the agent: a snapshot of records plus the problems met.

A source is read whole each time (centers hold thousands of records, not
millions); the agent diffs consecutive snapshots. ``read`` raises SourceError
only when nothing trustworthy could be read (file missing, database down, a
file whose structure is broken): the agent then keeps the last good state
instead of mistaking the failure for mass deletion. A bad record is not an
error of the source: it becomes a Problem and the good records still come
through.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from iplatform.v1 import message_pb2 as m

if TYPE_CHECKING:
    from agent.config import SourceConfig


@dataclass(frozen=True)
class Problem:
    """One record (or file) a source had to leave out, and why."""

    source: str
    """The source's configured name."""
    file: str | None
    """File name, or the query's name for SQL sources; None for the source as a whole."""
    line: int | None
    """Line in the file as an editor shows it (the header is line 1), or the query's row."""
    message: str
    """What is wrong, without customer data."""
    origin: Literal["file", "query"] = "file"
    """Whether ``file`` names a file or an SQL query."""

    @property
    def location(self) -> str:
        if self.file is None:
            return self.source
        if self.origin == "query":
            return f"query {self.file}" + (f" row {self.line}" if self.line is not None else "")
        return self.file + (f":{self.line}" if self.line is not None else "")

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class Snapshot:
    """Everything one read of a source produced."""

    equipment: list[m.Equipment] = field(default_factory=list)
    entries: list[m.CalendarEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class Source(ABC):
    """One configured source of records. Not thread-safe: read from one thread."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    @abstractmethod
    def read(self) -> Snapshot:
        """Read the source once; raise SourceError if nothing could be read."""

    @abstractmethod
    def watch_paths(self) -> list[Path]:
        """Files or directories whose changes should trigger a read ([] if none)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing open
        """Release what the source holds open (database connections). Idempotent."""


class IdTracker:
    """Keeps the first valid record of each id and reports later ones.

    A repeated id usually means a copy-paste slip or two systems disagreeing; both
    rows are suspect, but dropping the first too would delete a record the hub
    already has, so the first is kept and every later one becomes a Problem.
    """

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def claim(self, record_id: str, where: str) -> str | None:
        """Return None if ``record_id`` is new, else where it was first seen."""
        if record_id in self._first:
            return self._first[record_id]
        self._first[record_id] = where
        return None
