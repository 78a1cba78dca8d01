"""The installed agent.toml: pointing the one ``iplat-agent enroll`` wrote at STATE_DIR.

``enroll`` writes a commented agent.toml whose sources are the CSV files next to it and
whose state and certificates sit next to it too. The installer keeps the sources and
moves the rest into STATE_DIR (see :mod:`installer.layout` for why), so it sets
``state_path`` and ``[tls] key/cert/ca`` to absolute paths there. The edit is textual, so
the operator keeps every comment of the template; the result is parsed back and compared
before it is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from installer.errors import StepError, UsageError
from installer.layout import Layout

_MARK = "# state_path and [tls] below were set by iplat-install: the service writes only there.\n"


@dataclass(frozen=True)
class AgentToml:
    """What the installer needs to know of an agent.toml."""

    center_id: str
    hub: str
    state_path: Path
    key: Path
    cert: Path
    ca: Path


def read(path: Path) -> AgentToml:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path} ({exc}): fix it or move it away") from None
    base = path.parent
    tls = data.get("tls") or {}

    def at(value: object, default: str) -> Path:
        p = Path(str(value or default)).expanduser()
        return p if p.is_absolute() else base / p

    return AgentToml(
        center_id=str(data.get("center_id", "")),
        hub=str(data.get("hub", "")),
        state_path=at(data.get("state_path"), "state.db"),
        key=at(tls.get("key"), "agent.key"),
        cert=at(tls.get("cert"), "agent.crt"),
        ca=at(tls.get("ca"), "ca.pem"),
    )


def matches_layout(config: AgentToml, layout: Layout) -> bool:
    """The config keeps its state and certificates where this install puts them."""
    return (config.state_path, config.key, config.cert, config.ca) == (
        layout.state_db,
        layout.key,
        layout.cert,
        layout.ca,
    )


def _set_top_level(text: str, key: str, value: str) -> str:
    line = f"{key} = {json.dumps(value)}\n"
    first_table = re.search(r"(?m)^\[", text)
    head_end = first_table.start() if first_table else len(text)
    head, rest = text[:head_end], text[head_end:]
    pattern = re.compile(rf"(?m)^#?\s*{re.escape(key)}\s*=.*\n")
    if pattern.search(head):
        head = pattern.sub(lambda _: line, head, count=1)
    else:
        head = head.rstrip("\n") + "\n" + line + "\n"
    return head + rest


def _set_tls(text: str, values: dict[str, str]) -> str:
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    header = re.search(r"(?m)^\[tls\][ \t]*(#.*)?\n", text)
    if header is None:
        return text.rstrip("\n") + "\n\n[tls]\n" + lines
    body_start = header.end()
    next_table = re.search(r"(?m)^\[", text[body_start:])
    body_end = body_start + next_table.start() if next_table else len(text)
    body = text[body_start:body_end]
    for key in values:
        body = re.sub(rf"(?m)^\s*{re.escape(key)}\s*=.*\n", "", body)
    return text[:body_start] + lines + body + text[body_end:]


def point_at_state_dir(text: str, layout: Layout) -> str:
    """``text`` with state_path and [tls] paths in STATE_DIR; StepError if that fails."""
    new = text if _MARK in text else _MARK + text
    new = _set_top_level(new, "state_path", str(layout.state_db))
    new = _set_tls(new, {"key": str(layout.key), "cert": str(layout.cert), "ca": str(layout.ca)})
    try:
        data = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise StepError(
            f"could not set state_path and [tls] in the agent.toml written by iplat-agent "
            f"enroll ({exc}); report this with the agent's version",
            "config",
        ) from None
    tls = data.get("tls", {})
    got = (data.get("state_path"), tls.get("key"), tls.get("cert"), tls.get("ca"))
    want = (str(layout.state_db), str(layout.key), str(layout.cert), str(layout.ca))
    if got != want:
        raise StepError(
            f"agent.toml edit did not take (got {got}); report this with the agent's version",
            "config",
        )
    return new
