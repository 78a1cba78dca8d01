"""The agent's settings, loaded from ``agent.toml`` and validated at start-up.

Layout (every key is listed in ``agent.templates.default_config_text``)::

    center_id = "KR-MR-0001"
    hub = "hub.example.kr:7443"
    timezone = "Asia/Seoul"        # optional
    state_path = "state.db"        # optional
    log_level = "info"             # optional
    [tls]                          # optional: key, cert, ca, server_name
    [sync]                         # optional: see SyncConfig
    [inbox]                        # optional: see agent.inbox.config
    [[sources]]                    # at least one
    name = "equipment"
    type = "csv"
    ...
    [sources.columns]              # optional: canonical name = header in the file

Relative paths resolve against the directory of the config file. Unknown keys
are errors, so a typo cannot silently fall back to a default. Every error names
the file, the key and the fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.errors import ConfigError
from agent.inbox.config import InboxConfig, parse_inbox
from agent.sources import fields
from proto import codes, identity, limits

SourceType = Literal["csv", "ical", "sql"]
SOURCE_TYPES: tuple[SourceType, ...] = ("csv", "ical", "sql")
LOG_LEVELS = ("debug", "info", "warning", "error")
_HUB = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class TlsConfig:
    key: Path
    """The agent's private key (PEM, mode 0600)."""
    cert: Path
    """The agent's certificate, signed by the hub's CA."""
    ca: Path
    """The trust bundle used to verify the hub."""
    server_name: str | None = None
    """Name to check in the hub's certificate when it differs from the host in ``hub``."""


@dataclass(frozen=True)
class SyncConfig:
    heartbeat_seconds: int = limits.DEFAULT_HEARTBEAT_SECONDS
    """Seconds between heartbeats on the stream, until the hub's Welcome sets its own (the
    hub's ``[sync]`` wins: it sizes staleness thresholds for every center alike)."""
    reconcile_seconds: int = limits.DEFAULT_RECONCILE_SECONDS
    """Seconds between digest reconciliations with the hub; the hub's Welcome overrides it."""
    max_delete_share: float = 0.5
    """A snapshot deleting more than this share (0 < x <= 1) of the records is held back."""
    batch_changes: int = 1000
    """Changes per batch sent to the hub (1 .. proto.limits.MAX_BATCH_CHANGES)."""
    backoff_initial_seconds: float = 0.5
    """First reconnect delay after a failed session."""
    backoff_max_seconds: float = 30.0
    """Longest reconnect delay."""
    poll_seconds: int = 60
    """Default seconds between two reads of a source."""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    """Unique name, shown in problems, logs and the hub's health view."""
    type: SourceType
    """``csv``, ``ical`` or ``sql``."""
    poll_seconds: int
    """Seconds between two reads (default: ``sync.poll_seconds``)."""
    watch: bool
    """Also re-read when a watched file changes (file sources; always False for sql)."""
    columns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """csv/sql: canonical column name -> the name in the file or query result."""
    # csv
    kind: Literal["equipment", "calendar"] = "equipment"
    """csv: what the file holds."""
    path: Path | None = None
    """csv: the file."""
    delimiter: str = ","
    """csv: the field separator."""
    encoding: str = "utf-8"
    """csv: text encoding (a UTF-8 byte-order mark is tolerated; Korean Excel writes cp949)."""
    # ical
    paths: tuple[Path, ...] = ()
    """ical: files, directories of .ics files or glob patterns."""
    equipment_id_from: Literal["property", "filename"] = "property"
    """ical: take the equipment id from an event property or from the file name stem."""
    equipment_property: str = "X-IPLAT-EQUIPMENT-ID"
    """ical: the property naming the equipment (on the event or the calendar)."""
    horizon_days: int = 180
    """ical: recurring events are expanded this many days ahead."""
    default_kind: str = "booked"
    """ical: entry kind of an event that says nothing else."""
    # sql
    url: str = ""
    """sql: SQLAlchemy URL (relative SQLite paths resolve against the config directory)."""
    equipment_query: str = ""
    """sql: query returning equipment rows (empty: none)."""
    calendar_query: str = ""
    """sql: query returning calendar rows (empty: none)."""


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    """The config file."""
    base_dir: Path
    """Its directory; relative paths resolve against it."""
    center_id: str
    """This center's id, e.g. KR-MR-0001 (must match the certificate)."""
    hub: str
    """The hub's address, HOST:PORT."""
    tls: TlsConfig
    """Key, certificate and trust bundle."""
    sources: tuple[SourceConfig, ...]
    """Where the center's equipment and calendar come from."""
    timezone: str = "Asia/Seoul"
    """IANA zone of times written without an offset and of operating hours."""
    state_path: Path = Path("state.db")
    """Local state database."""
    log_level: str = "info"
    """debug, info, warning or error."""
    sync: SyncConfig = field(default_factory=SyncConfig)
    """Sync timing and safety settings."""
    inbox: InboxConfig = field(default_factory=InboxConfig)
    """Where requests the hub routes to this center go, and where answers come from."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class _Table:
    """One TOML table being read: tracks the keys used so leftovers can be refused."""

    def __init__(self, file: Path, where: str, data: Mapping[str, Any]) -> None:
        self.file, self.where, self.data = file, where, data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def error(self, name: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.file}: key '{self.key(name)}': {problem}. Fix: {fix}")

    def get(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def text(self, name: str, default: str | None = None, example: str = "") -> str:
        value = self.get(name)
        if value is None:
            if default is None:
                raise self.error(name, "is missing", f"add {name} = {example or '...'}")
            return default
        if not isinstance(value, str):
            raise self.error(
                name, f"must be a string, got {value!r}", f"write {name} = {example or '...'}"
            )
        return value

    def whole(self, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
        value = self.get(name)
        if value is None:
            return default
        bounds = f"{minimum} .. {maximum}" if maximum is not None else f">= {minimum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                name,
                f"must be a whole number, got {value!r}",
                f"use a number {bounds}, e.g. {default}",
            )
        if value < minimum or (maximum is not None and value > maximum):
            raise self.error(
                name, f"{value} is out of range", f"use a number {bounds}, e.g. {default}"
            )
        return value

    def number(self, name: str, default: float, low: float, high: float | None = None) -> float:
        value = self.get(name)
        if value is None:
            return default
        bounds = f"> {low}" + (f" and <= {high}" if high is not None else "")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(
                name, f"must be a number, got {value!r}", f"use a number {bounds}, e.g. {default}"
            )
        if not value > low or (high is not None and value > high):
            raise self.error(
                name, f"{value} is out of range", f"use a number {bounds}, e.g. {default}"
            )
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}", f"write {name} = true")
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(name, default, example=f'"{allowed[0]}"')
        if value not in allowed:
            raise self.error(name, f"{value!r} is not allowed", f"use one of: {', '.join(allowed)}")
        return value

    def path(self, name: str, base: Path, default: str | None = None) -> Path:
        value = self.text(name, default, example='"file-name"')
        if not value.strip():
            raise self.error(
                name, "is empty", "give a file path (relative to the config file's directory)"
            )
        return (base / Path(value).expanduser()).resolve()

    def table(self, name: str) -> _Table:
        value = self.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(
                name, "must be a table", f"write it as [{self.key(name)}] with keys below it"
            )
        return _Table(self.file, self.key(name), value)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            known = ", ".join(sorted(self.used))
            raise self.error(
                extra[0],
                "is not a known setting",
                f"remove it or correct its spelling (known here: {known})",
            )


def load_config(path: Path) -> AgentConfig:
    """Read and validate ``agent.toml``; raise ConfigError naming the file, key and fix."""
    path = Path(path).expanduser().resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found. Fix: run 'iplat-agent init' or pass the right --config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the config file ({exc}). Fix: check its permissions"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc}). Fix: correct the syntax at that line"
        ) from None
    return _parse(path, data)


def _parse(path: Path, data: Mapping[str, Any]) -> AgentConfig:
    base = path.parent
    top = _Table(path, "", data)
    center_id = top.text("center_id", example='"KR-MR-0001"')
    try:
        identity.check_center_id(center_id)
    except ValueError as exc:
        raise top.error("center_id", str(exc), "use the id the hub operator gave you") from None
    hub = top.text("hub", example='"hub.example.kr:7443"')
    m = _HUB.match(hub)
    if not m or not 1 <= int(m["port"]) <= 65535:
        raise top.error(
            "hub", f"{hub!r} is not HOST:PORT", 'write e.g. hub = "hub.example.kr:7443"'
        )
    tz = top.text("timezone", "Asia/Seoul")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.error(
            "timezone", f"unknown time zone {tz!r}", 'use an IANA name such as "Asia/Seoul"'
        ) from None
    state_path = top.path("state_path", base, "state.db")
    log_level = top.choice("log_level", LOG_LEVELS, "info")

    t = top.table("tls")
    server_name = t.get("server_name")
    if server_name is not None and (not isinstance(server_name, str) or not server_name):
        raise t.error(
            "server_name",
            "must be a non-empty string",
            "write the host name in the hub's certificate",
        )
    tls = TlsConfig(
        key=t.path("key", base, "agent.key"),
        cert=t.path("cert", base, "agent.crt"),
        ca=t.path("ca", base, "ca.pem"),
        server_name=server_name,
    )
    t.done()

    s = top.table("sync")
    sync = SyncConfig(
        heartbeat_seconds=s.whole("heartbeat_seconds", SyncConfig.heartbeat_seconds),
        reconcile_seconds=s.whole("reconcile_seconds", SyncConfig.reconcile_seconds),
        max_delete_share=s.number("max_delete_share", SyncConfig.max_delete_share, 0.0, 1.0),
        batch_changes=s.whole(
            "batch_changes", SyncConfig.batch_changes, 1, limits.MAX_BATCH_CHANGES
        ),
        backoff_initial_seconds=s.number(
            "backoff_initial_seconds", SyncConfig.backoff_initial_seconds, 0.0
        ),
        backoff_max_seconds=s.number("backoff_max_seconds", SyncConfig.backoff_max_seconds, 0.0),
        poll_seconds=s.whole("poll_seconds", SyncConfig.poll_seconds),
    )
    if sync.backoff_max_seconds < sync.backoff_initial_seconds:
        raise s.error(
            "backoff_max_seconds",
            "is smaller than backoff_initial_seconds",
            "raise it or lower the initial delay",
        )
    s.done()

    inbox = parse_inbox(top.table("inbox"), base, _sql_url)

    raw_sources = top.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise top.error(
            "sources",
            "no [[sources]] configured",
            "add at least one [[sources]] table (see 'iplat-agent init' for an example)",
        )
    sources: list[SourceConfig] = []
    for i, raw in enumerate(raw_sources):
        if not isinstance(raw, dict):
            raise top.error(
                "sources",
                f"entry {i + 1} is not a table",
                "write each source as a [[sources]] table",
            )
        src = _source(_Table(path, f"sources[{i + 1}]", raw), base, sync.poll_seconds)
        if any(other.name == src.name for other in sources):
            raise ConfigError(
                f"{path}: key 'sources[{i + 1}].name': the name {src.name!r} is used twice. "
                "Fix: give every source its own name"
            )
        sources.append(src)
    top.done()
    return AgentConfig(
        path=path,
        base_dir=base,
        center_id=center_id,
        hub=hub,
        timezone=tz,
        state_path=state_path,
        log_level=log_level,
        tls=tls,
        sync=sync,
        inbox=inbox,
        sources=tuple(sources),
    )


def _columns(t: _Table, allowed: tuple[str, ...]) -> Mapping[str, str]:
    c = t.table("columns")
    out: dict[str, str] = {}
    for name in c.data:
        if name not in allowed:
            raise c.error(
                name, "is not a canonical column here", f"use one of: {', '.join(allowed)}"
            )
        out[name] = c.text(name)
        if not out[name].strip():
            raise c.error(
                name, "is empty", "give the column's header as it appears in the file or query"
            )
    return MappingProxyType(out)


def _source(t: _Table, base: Path, default_poll: int) -> SourceConfig:
    name = t.text("name", example='"equipment"')
    if not _SOURCE_NAME.match(name):
        raise t.error(
            "name", f"{name!r} is not a valid source name", "use letters, digits, '.', '_' or '-'"
        )
    kind_of_source = t.choice("type", SOURCE_TYPES)
    poll = t.whole("poll_seconds", default_poll)
    if kind_of_source == "csv":
        kind = t.choice("kind", ("equipment", "calendar"))
        delimiter = t.text("delimiter", ",")
        if len(delimiter) != 1:
            raise t.error(
                "delimiter", f"{delimiter!r} is not one character", 'use "," or ";" or "\\t"'
            )
        encoding = t.text("encoding", "utf-8")
        try:
            "".encode(encoding)
        except LookupError:
            raise t.error(
                "encoding", f"unknown encoding {encoding!r}", 'use "utf-8" or "cp949"'
            ) from None
        allowed = fields.EQUIPMENT_COLUMNS if kind == "equipment" else fields.CALENDAR_COLUMNS
        src = SourceConfig(
            name=name,
            type="csv",
            poll_seconds=poll,
            watch=t.flag("watch", True),
            kind=kind,  # type: ignore[arg-type]
            path=t.path("path", base),
            columns=_columns(t, allowed),
            delimiter=delimiter,
            encoding=encoding,
        )
    elif kind_of_source == "ical":
        raw_paths = t.get("paths")
        if isinstance(raw_paths, str):
            raw_paths = [raw_paths]
        if (
            not isinstance(raw_paths, list)
            or not raw_paths
            or not all(isinstance(p, str) and p.strip() for p in raw_paths)
        ):
            raise t.error(
                "paths",
                "must be a path or a list of paths",
                'write paths = "calendars/*.ics" (a file, directory or glob)',
            )
        default_kind = t.text("default_kind", "booked")
        if default_kind not in codes.ENTRY_KIND:
            raise t.error(
                "default_kind",
                f"unknown kind {default_kind!r}",
                f"use one of: {', '.join(codes.ENTRY_KIND.codes)}",
            )
        prop = t.text("equipment_property", "X-IPLAT-EQUIPMENT-ID").upper()
        if not re.match(r"^[A-Z][A-Z0-9-]*$", prop):
            raise t.error(
                "equipment_property",
                f"{prop!r} is not an iCalendar property name",
                'use e.g. "X-IPLAT-EQUIPMENT-ID" or "LOCATION"',
            )
        src = SourceConfig(
            name=name,
            type="ical",
            poll_seconds=poll,
            watch=t.flag("watch", True),
            paths=tuple(base / Path(p).expanduser() for p in raw_paths),
            equipment_id_from=t.choice("equipment_id_from", ("property", "filename"), "property"),  # type: ignore[arg-type]
            equipment_property=prop,
            horizon_days=t.whole("horizon_days", 180, 1, 3660),
            default_kind=codes.ENTRY_KIND.code(codes.ENTRY_KIND.value(default_kind)),
        )
    else:
        url = _sql_url(t, base)
        equipment_query = t.text("equipment_query", "")
        calendar_query = t.text("calendar_query", "")
        if not equipment_query.strip() and not calendar_query.strip():
            raise t.error(
                "equipment_query",
                "both queries are empty",
                "give equipment_query, calendar_query or both",
            )
        src = SourceConfig(
            name=name,
            type="sql",
            poll_seconds=poll,
            watch=t.flag("watch", False),
            url=url,
            equipment_query=equipment_query,
            calendar_query=calendar_query,
            columns=_columns(
                t, tuple(dict.fromkeys(fields.EQUIPMENT_COLUMNS + fields.CALENDAR_COLUMNS))
            ),
        )
        if src.watch:
            raise t.error(
                "watch", "an SQL source cannot be watched", "remove watch; use poll_seconds"
            )
    t.done()
    return src


def _sql_url(t: _Table, base: Path) -> str:
    # Imported here: only centers with an SQL source pay for SQLAlchemy at start-up.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = t.text("url", example='"postgresql+psycopg://user@db-host/booking"')
    try:
        url = make_url(raw)
    except ArgumentError:
        raise t.error(
            "url",
            "is not a database URL",
            'write e.g. "postgresql+psycopg://user:pw@host/db" or "sqlite:///booking.db"',
        ) from None
    db = url.database
    relative_sqlite = (
        url.get_backend_name() == "sqlite"
        and db
        and db != ":memory:"
        and not db.startswith("file:")
        and not Path(db).is_absolute()
    )
    if relative_sqlite:
        url = url.set(database=str((base / str(db)).resolve()))
    return url.render_as_string(hide_password=False)
