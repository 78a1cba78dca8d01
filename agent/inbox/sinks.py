"""Where routed requests are shown to center staff, and where their answers come from.

A sink is one small class per kind (``[inbox] kind``): :class:`agent.inbox.folder.FolderSink`,
:class:`agent.inbox.sql.SqlSink`, :class:`NoSink`. Two rules make the delivery protocol safe
(see :mod:`agent.inbox.store`):

- :meth:`Sink.put` is idempotent by item_id: the same file name, the same primary key. The
  agent may put an item again after a crash (or after every change of it) and the center
  still sees one entry.
- An answer found by :meth:`Sink.pick_up` is confirmed (:meth:`Sink.done`) only after it was
  queued in the state file, and carries an ``origin`` so that finding it again after a crash
  between the two is recognised as the same answer.

Sinks raise :class:`agent.errors.InboxError` when their folder or database cannot be used;
the state file keeps everything and the daemon retries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.inbox.answers import RawAnswer
from agent.inbox.config import inbox_dir
from agent.inbox.render import how_to_answer

if TYPE_CHECKING:
    from agent.config import AgentConfig
    from agent.inbox.store import InboxItem


@dataclass(frozen=True)
class Found:
    """An answer a sink found: the answer (None when it could not be read) and its origin."""

    origin: str
    """Stable for the same answer: where it is and a hash of what it says."""
    where: str
    """For messages and logs: the file name or table row."""
    raw: RawAnswer | None
    problems: list[str] = field(default_factory=list)
    """Why it could not even be read as an answer (broken JSON, unknown keys...)."""
    handle: Any = None
    """The sink's own reference (a path, a primary key)."""


class Sink(ABC):
    kind: str = ""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.zone = config.zone

    def prepare(self) -> None:  # noqa: B027 - most sinks need nothing
        """Make the folders or table; called before first use and retried until it works."""

    def how(self, item_id: str) -> str:
        """The answering instructions shown with an item."""
        return how_to_answer(item_id, str(self.config.path), None)

    @abstractmethod
    def put(self, item: InboxItem) -> None:
        """Show this revision of ``item`` (insert or replace by item_id)."""

    def withdraw_unknown(self, item_id: str, reason: str) -> None:  # noqa: B027
        """Mark an item withdrawn that the state file does not know (lost state): best effort."""

    def pick_up(self) -> list[Found]:
        """Answers staff left since the last call (not yet confirmed or rejected)."""
        return []

    def done(self, found: Found, answer_seq: int) -> None:  # noqa: B027
        """``found`` is queued as answer ``answer_seq``: do not offer it again."""

    def reject(self, found: Found, problems: list[str]) -> None:  # noqa: B027
        """``found`` cannot be sent: tell staff what to fix, losing nothing they wrote."""

    def close(self) -> None:  # noqa: B027
        """Release connections."""


class NoSink(Sink):
    """``kind = "none"``: items live in the state file only; staff use ``iplat-agent requests``."""

    kind = "none"

    def put(self, item: InboxItem) -> None:
        return None


def build_sink(config: AgentConfig) -> Sink:
    kind = config.inbox.kind
    if kind == "folder":
        from agent.inbox.folder import FolderSink

        return FolderSink(config, inbox_dir(config))
    if kind == "sql":
        # Imported here: SQLAlchemy only for centers that use it.
        from agent.inbox.sql import SqlSink

        return SqlSink(config)
    return NoSink(config)
