"""The ``[inbox]`` section of agent.toml: where routed requests go and answers come from.

::

    [inbox]
    kind = "folder"           # "folder" (default), "sql" or "none"
    path = "inbox"            # folder: default <agent data dir>/inbox (next to state.db)
    url = "sqlite:///requests.db"   # sql: SQLAlchemy URL
    table = "iplat_requests"  # sql: table the agent creates and fills
    poll_seconds = 2.0        # how often answers are picked up

Parsed by :func:`parse_inbox`, called from :func:`agent.config.load_config` with the same
table reader (unknown keys are errors, messages name file, key and fix). Keys that only
one kind uses are refused for the others, so a half-edited section cannot silently write
requests somewhere nobody looks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from agent.config import AgentConfig, _Table

InboxKind = Literal["folder", "sql", "none"]
INBOX_KINDS: tuple[InboxKind, ...] = ("folder", "sql", "none")
DEFAULT_POLL_SECONDS = 2.0
DEFAULT_TABLE = "iplat_requests"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_ONLY_FOR: dict[str, InboxKind] = {"path": "folder", "url": "sql", "table": "sql"}


@dataclass(frozen=True)
class InboxConfig:
    kind: InboxKind = "folder"
    """folder: JSON files per item and answer files; sql: a table in a database the center
    uses; none: only the state database and ``iplat-agent requests``."""
    path: Path | None = None
    """folder: the inbox directory (None: ``inbox`` next to the state database)."""
    url: str = ""
    """sql: SQLAlchemy URL (relative SQLite paths resolve against the config directory)."""
    table: str = DEFAULT_TABLE
    """sql: the table's name (a plain identifier); created when missing."""
    poll_seconds: float = DEFAULT_POLL_SECONDS
    """Seconds between two pick-ups of answers (and retries of a failed sink write)."""


def inbox_dir(config: AgentConfig) -> Path:
    """The folder sink's directory: ``[inbox] path`` or ``inbox`` beside the state file.

    Beside the state file rather than agent.toml: installed agents keep their config in a
    read-only place and their data under the service's state directory.
    """
    return config.inbox.path or config.state_path.parent / "inbox"


def parse_inbox(t: _Table, base: Path, sql_url: Callable[[_Table, Path], str]) -> InboxConfig:
    """Read ``[inbox]`` from ``t``; ``sql_url`` is agent.config's URL check (shared rules)."""
    kind: InboxKind = t.choice("kind", INBOX_KINDS, "folder")  # type: ignore[assignment]
    for key, owner in _ONLY_FOR.items():
        if key in t.data and owner != kind:
            raise t.error(
                key,
                f'is only used with kind = "{owner}" (this inbox is kind = "{kind}")',
                f'remove {key}, or set kind = "{owner}"',
            )
    poll = t.number("poll_seconds", DEFAULT_POLL_SECONDS, 0.0, 3600.0)
    if kind == "folder":
        path = t.path("path", base) if "path" in t.data else None
        config = InboxConfig(kind=kind, path=path, poll_seconds=poll)
    elif kind == "sql":
        url = sql_url(t, base)
        table = t.text("table", DEFAULT_TABLE)
        if not _IDENTIFIER.match(table):
            raise t.error(
                "table",
                f"{table!r} is not a plain table name",
                'use letters, digits and "_" (not starting with a digit), e.g. "iplat_requests"',
            )
        config = InboxConfig(kind=kind, url=url, table=table, poll_seconds=poll)
    else:
        config = InboxConfig(kind=kind, poll_seconds=poll)
    t.done()
    return config
