"""Hub settings: frozen dataclasses loaded from ``DATA_DIR/hub.toml`` and validated.

Every problem raises :class:`~hub.errors.ConfigError` naming the file, the key and the fix.
Unknown keys are errors too: a misspelt key silently falling back to its default is
worse than a refusal to start.

``hub.toml``::

    trust_domain = "iplatform.local"        # SPIFFE trust domain of every identity
    listen = "127.0.0.1:7443"               # gRPC address; port 0 picks a free one
    public_address = "hub.example.kr:7443"  # what agents dial (install commands); default: listen
    database_url = "sqlite:////srv/hub/hub.db"
    log_level = "info"

    [sync]
    heartbeat_seconds = 5
    stale_after_seconds = 30
    max_batch_changes = 1000
    max_inflight_batches = 4
    reconcile_seconds = 600

    [tls]
    server_hosts = ["localhost", "127.0.0.1", "::1", "hub.example.kr"]

    [pki]
    agent_cert_days = 90
    client_cert_days = 90

    [enroll]
    token_ttl_seconds = 86400
    max_failures = 5
    failure_window_seconds = 60

    [server]
    keepalive_seconds = 30
    shutdown_grace_seconds = 5.0
    store_threads = 8
    reload_poll_seconds = 0.4

    [http]
    listen = "127.0.0.1:8080"               # HTTP/JSON API; port 0 picks one; "" turns it off
    cors_origins = ["https://portal.example.kr"]
    max_body_bytes = 65536
    sse_keepalive_seconds = 15.0

    [feed]
    retention_seconds = 604800              # 0 keeps the change log forever
    poll_seconds = 0.25

    [ops]
    grace_seconds = 2.0                     # center states: see hub/health/states.py
    stale_after_heartbeats = 2
    offline_after_heartbeats = 6
    missing_after_seconds = 86400
    backlog_growing_seconds = 300
    lag_warn_seconds = 60
    cert_warn_days = 14
    local_access = true                     # dashboard and /metrics without a key from loopback
    refresh_seconds = 5.0
    cache_seconds = 2.0

    [routing]                               # one-stop requests: see hub/config_routing.py
    guide = ""                              # stage guide file; "" = the shipped draft
    answer_deadline = "2 business days"
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub import config_routing
from hub.config_routing import RoutingSettings
from hub.errors import ConfigError
from hub.pki import PkiPaths
from proto import identity, limits

CONFIG_NAME = "hub.toml"
SERVE_INFO_NAME = "serve.json"
DEFAULT_TRUST_DOMAIN = "iplatform.local"
DEFAULT_LISTEN = "127.0.0.1:7443"
DEFAULT_HTTP_LISTEN = "127.0.0.1:8080"
LOG_LEVELS = ("debug", "info", "warning", "error")
# A browser origin: scheme://host[:port], no path (hosts may be [IPv6] literals).
_ORIGIN = re.compile(r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class SyncSettings:
    """``[sync]``: what the hub tells agents in Welcome, and when it calls a center stale."""

    heartbeat_seconds: int = limits.DEFAULT_HEARTBEAT_SECONDS
    """How often agents send a Heartbeat on their stream."""
    stale_after_seconds: int = 30
    """A center silent for longer than this is flagged stale in every answer."""
    max_batch_changes: int = 1000
    """Largest batch agents should send; the hub accepts up to twice this."""
    max_inflight_batches: int = limits.DEFAULT_MAX_INFLIGHT_BATCHES
    """Batches an agent may send before waiting for an Ack (backpressure)."""
    reconcile_seconds: int = limits.DEFAULT_RECONCILE_SECONDS
    """How often agents run digest reconciliation."""


@dataclass(frozen=True)
class TlsSettings:
    """``[tls]``: the hub's server certificate."""

    server_hosts: tuple[str, ...] = ()
    """Host names and IPs in the server certificate (agents dial one of them)."""


@dataclass(frozen=True)
class PkiSettings:
    """``[pki]``: certificates the hub issues."""

    agent_cert_days: int = 90
    """Lifetime of center (agent) certificates: ``center sign``, Enroll and renewal."""
    client_cert_days: int = 90
    """Lifetime of portal and operator certificates (``iplat-hub client add``, renewal)."""


@dataclass(frozen=True)
class EnrollSettings:
    """``[enroll]``: one-time enrollment tokens and the brake on guessing them."""

    token_ttl_seconds: int = 86400
    """Default lifetime of ``iplat-hub token create`` (``--ttl`` overrides it)."""
    max_failures: int = 5
    """Failed Enroll calls one peer address may make per window before it is refused."""
    failure_window_seconds: int = 60
    """The window of ``max_failures``; a refused peer retries after it."""


@dataclass(frozen=True)
class ServerSettings:
    """``[server]``: the gRPC server process."""

    keepalive_seconds: int = 30
    """HTTP/2 keepalive ping interval; finds dead agents without app-level traffic."""
    shutdown_grace_seconds: float = 5.0
    """On SIGTERM, how long open calls get to finish before they are cancelled."""
    store_threads: int = 8
    """Worker threads for the (blocking) store."""
    reload_poll_seconds: float = 0.4
    """How often ``serve`` checks for evictions/bans and new TLS material (CA rotation)
    made by CLI commands in other processes; the delay before they take effect."""


@dataclass(frozen=True)
class HttpSettings:
    """``[http]``: the HTTP/JSON API for portals (same process and event loop as gRPC)."""

    listen: str = DEFAULT_HTTP_LISTEN
    """HOST:PORT of the HTTP API; port 0 picks a free port (see serve.json); "" turns the
    HTTP API off. Plain HTTP: put a TLS-terminating proxy in front of it when it leaves
    the host."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins (``https://portal.example.kr``) allowed to call the API from
    JavaScript; ``"*"`` allows any origin. Empty: no cross-origin access."""
    max_body_bytes: int = 65536
    """Largest request body accepted (one-stop requests are the only bodies); bigger: 413."""
    sse_keepalive_seconds: float = 15.0
    """Idle Server-Sent Events streams get a comment line this often, so proxies keep them."""


@dataclass(frozen=True)
class FeedSettings:
    """``[feed]``: the live change feed (gRPC FeedService.Watch and GET /v1/feed)."""

    retention_seconds: int = 7 * 86400
    """Change-log rows older than this are pruned; a reader further behind must resync
    from a snapshot. 0 keeps the log forever."""
    poll_seconds: float = 0.25
    """How often a serving hub looks for new changes (one row read); the feed's delay."""


@dataclass(frozen=True)
class OpsSettings:
    """``[ops]``: operator health (``iplat-hub status``, ``/metrics``, the dashboard ``/ops/``).

    A center's state comes from its agent's own heartbeat interval ``h`` (the larger of what
    its Hello announced and ``[sync] heartbeat_seconds``): online while its stream is open and
    it was heard within ``stale_after_heartbeats * h + grace``; stale until
    ``offline_after_heartbeats * h + grace``; offline until ``missing_after_seconds``;
    missing after that."""

    grace_seconds: float = 2.0
    """Added to every liveness threshold: heartbeat jitter, network and clock delays."""
    stale_after_heartbeats: int = 2
    """Heartbeat intervals of silence before an online center is called stale."""
    offline_after_heartbeats: int = 6
    """Heartbeat intervals of silence before a center is called offline."""
    missing_after_seconds: int = 86400
    """Silence after which an offline center is called missing (someone must go and look)."""
    backlog_growing_seconds: int = 300
    """A backlog that has not shrunk for this long is reported as a problem."""
    lag_warn_seconds: int = 60
    """Change-to-commit lag above this is reported as a problem."""
    cert_warn_days: int = 14
    """A center certificate expiring within this many days is reported."""
    local_access: bool = True
    """Callers on the loopback address may open the dashboard and /metrics without an
    operator API key. Turn off when a reverse proxy on the same host forwards to the hub."""
    refresh_seconds: float = 5.0
    """How often an open dashboard page fetches fresh data."""
    cache_seconds: float = 2.0
    """Center health read from the database is reused for this long (dashboard, /metrics)."""


@dataclass(frozen=True)
class HubConfig:
    """Everything ``iplat-hub`` reads from ``DATA_DIR/hub.toml``."""

    data_dir: Path
    """The hub's data directory (holds hub.toml, pki/, serve.json, the SQLite file)."""
    trust_domain: str = DEFAULT_TRUST_DOMAIN
    """SPIFFE trust domain; peers from any other domain are refused."""
    listen: str = DEFAULT_LISTEN
    """HOST:PORT the gRPC server binds; port 0 picks a free port (see serve.json)."""
    public_address: str = ""
    """HOST:PORT agents dial, printed in install commands; empty: the listen address."""
    database_url: str = ""
    """SQLAlchemy URL of the store (sqlite:///... or postgresql+psycopg://...)."""
    log_level: str = "info"
    """debug, info, warning or error."""
    sync: SyncSettings = field(default_factory=SyncSettings)
    """``[sync]`` settings."""
    tls: TlsSettings = field(default_factory=TlsSettings)
    """``[tls]`` settings."""
    pki: PkiSettings = field(default_factory=PkiSettings)
    """``[pki]`` settings."""
    enroll: EnrollSettings = field(default_factory=EnrollSettings)
    """``[enroll]`` settings."""
    server: ServerSettings = field(default_factory=ServerSettings)
    """``[server]`` settings."""
    http: HttpSettings = field(default_factory=HttpSettings)
    """``[http]`` settings."""
    feed: FeedSettings = field(default_factory=FeedSettings)
    """``[feed]`` settings."""
    ops: OpsSettings = field(default_factory=OpsSettings)
    """``[ops]`` settings."""
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    """``[routing]`` settings."""

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_NAME

    @property
    def pki_paths(self) -> PkiPaths:
        return PkiPaths(self.data_dir / "pki")

    @property
    def serve_info_path(self) -> Path:
        return self.data_dir / SERVE_INFO_NAME


_SECTIONS: dict[str, type[Any]] = {
    "sync": SyncSettings,
    "tls": TlsSettings,
    "pki": PkiSettings,
    "enroll": EnrollSettings,
    "server": ServerSettings,
    "http": HttpSettings,
    "feed": FeedSettings,
    "ops": OpsSettings,
    "routing": RoutingSettings,
}


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'hub.db').resolve()}"


def parse_listen(value: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` for IPv6); ValueError says what is wrong."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{value!r} is not HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port {port_text!r} is not a number in 0..65535")
    return host, int(port_text)


class _Checker:
    """Reads one TOML table into a dataclass, collecting the file and key for errors."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}. Fix: {fix}")

    def table(
        self, raw: dict[str, Any], section: str, cls: type[Any], skip: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        known = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            where = f"[{section}] {key}" if section else key
            f = known.get(key)
            if f is None:
                raise self.fail(
                    where, "unknown key", f"remove it or use one of: {', '.join(sorted(known))}"
                )
            if not section and key in _SECTIONS:
                continue  # sub-tables are read by from_dict
            # Leaf settings all have plain defaults; their type says what the TOML must hold.
            out[key] = self._coerce(where, value, f.default)
        return out

    def _coerce(self, where: str, value: Any, default: Any) -> Any:
        if isinstance(default, bool):
            ok = isinstance(value, bool)
            want = "true or false"
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
            want = "a whole number"
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            want = "a number"
            value = float(value) if ok else value
        elif isinstance(default, str):
            ok = isinstance(value, str)
            want = "a quoted string"
        elif isinstance(default, tuple):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            want = 'a list of strings, e.g. ["hub.example.kr"]'
            value = tuple(value) if ok else value
        else:  # pragma: no cover - every field type is listed above
            raise TypeError(f"no coercion for {where}")
        if not ok:
            raise self.fail(
                where, f"{json.dumps(value, default=str)} has the wrong type", f"write {want}"
            )
        return value

    def in_range(self, where: str, value: float, low: float, high: float) -> None:
        if not low <= value <= high:
            raise self.fail(
                where, f"{value} is out of range", f"use a value between {low} and {high}"
            )


def load(data_dir: Path) -> HubConfig:
    """Read and validate ``data_dir/hub.toml``."""
    data_dir = data_dir.resolve()
    path = data_dir / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: is --data-dir right? Create a hub with "
            f"'iplat-hub init --data-dir {data_dir}'"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {path}: {exc}; check the file's permissions and encoding"
        ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from exc
    return from_dict(raw, data_dir, path)


def from_dict(raw: dict[str, Any], data_dir: Path, path: Path) -> HubConfig:
    c = _Checker(path)
    top = c.table(raw, "", HubConfig, skip=("data_dir",))
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        sub = raw.get(name, {})
        if not isinstance(sub, dict):
            raise c.fail(name, "must be a table", f"write it as a [{name}] section")
        if name == "routing":
            sub = config_routing.raw_section(sub)
        sections[name] = cls(**c.table(sub, name, cls))
    sections["routing"] = config_routing.check(sections["routing"], data_dir, c.fail)
    cfg = HubConfig(data_dir=data_dir, **top, **sections)
    if not cfg.database_url:
        cfg = dataclasses.replace(cfg, database_url=default_database_url(data_dir))
    _validate(c, cfg)
    return cfg


def _validate(c: _Checker, cfg: HubConfig) -> None:
    try:
        identity.make(cfg.trust_domain, "hub", "hub")
    except ValueError as exc:
        raise c.fail(
            "trust_domain", str(exc), 'use a lower-case DNS-like name such as "iplatform.local"'
        ) from None
    try:
        parse_listen(cfg.listen)
    except ValueError as exc:
        raise c.fail(
            "listen", str(exc), 'write HOST:PORT, e.g. "0.0.0.0:7443" or "[::]:7443"'
        ) from None
    if cfg.public_address:
        try:
            _host, port = parse_listen(cfg.public_address)
        except ValueError as exc:
            raise c.fail(
                "public_address",
                str(exc),
                'write HOST:PORT agents can reach, e.g. "hub.example.kr:7443"',
            ) from None
        if port == 0:
            raise c.fail(
                "public_address", "port 0 cannot be dialled", "write the port the hub listens on"
            )
    scheme = cfg.database_url.split(":", 1)[0]
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise c.fail(
            "database_url",
            f"unsupported database {scheme!r}",
            'use "sqlite:///PATH" or "postgresql+psycopg://USER@HOST/DB"',
        )
    if cfg.log_level not in LOG_LEVELS:
        raise c.fail(
            "log_level", f"{cfg.log_level!r} is not a level", f"use one of {', '.join(LOG_LEVELS)}"
        )
    s = cfg.sync
    c.in_range("[sync] heartbeat_seconds", s.heartbeat_seconds, 1, 3600)
    c.in_range("[sync] stale_after_seconds", s.stale_after_seconds, 1, 7 * 86400)
    if s.stale_after_seconds <= s.heartbeat_seconds:
        raise c.fail(
            "[sync] stale_after_seconds",
            f"{s.stale_after_seconds} is not longer than heartbeat_seconds ({s.heartbeat_seconds})",
            "make it several heartbeats long (e.g. 6x heartbeat_seconds)",
        )
    c.in_range("[sync] max_batch_changes", s.max_batch_changes, 1, limits.MAX_BATCH_CHANGES)
    c.in_range("[sync] max_inflight_batches", s.max_inflight_batches, 1, 64)
    c.in_range("[sync] reconcile_seconds", s.reconcile_seconds, 10, 7 * 86400)
    c.in_range("[pki] agent_cert_days", cfg.pki.agent_cert_days, 1, 825)
    c.in_range("[pki] client_cert_days", cfg.pki.client_cert_days, 1, 825)
    e = cfg.enroll
    c.in_range("[enroll] token_ttl_seconds", e.token_ttl_seconds, 60, 30 * 86400)
    c.in_range("[enroll] max_failures", e.max_failures, 1, 1000)
    c.in_range("[enroll] failure_window_seconds", e.failure_window_seconds, 1, 86400)
    c.in_range("[server] keepalive_seconds", cfg.server.keepalive_seconds, 1, 3600)
    c.in_range("[server] shutdown_grace_seconds", cfg.server.shutdown_grace_seconds, 0, 600)
    c.in_range("[server] store_threads", cfg.server.store_threads, 1, 256)
    c.in_range("[server] reload_poll_seconds", cfg.server.reload_poll_seconds, 0.05, 60)
    _validate_http(c, cfg.http)
    if cfg.feed.retention_seconds:
        c.in_range("[feed] retention_seconds", cfg.feed.retention_seconds, 3600, 366 * 86400)
    c.in_range("[feed] poll_seconds", cfg.feed.poll_seconds, 0.05, 10)
    _validate_ops(c, cfg.ops)


def _validate_http(c: _Checker, h: HttpSettings) -> None:
    if h.listen:
        try:
            parse_listen(h.listen)
        except ValueError as exc:
            raise c.fail(
                "[http] listen",
                str(exc),
                'write HOST:PORT, e.g. "127.0.0.1:8080", or "" to turn the HTTP API off',
            ) from None
    for origin in h.cors_origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise c.fail(
                "[http] cors_origins",
                f"{origin!r} is not an origin",
                'write scheme://host[:port] without a path, e.g. "https://portal.example.kr", '
                'or "*" for any origin',
            )
    c.in_range("[http] max_body_bytes", h.max_body_bytes, 0, 16 * 1024 * 1024)
    c.in_range("[http] sse_keepalive_seconds", h.sse_keepalive_seconds, 1, 300)


def _validate_ops(c: _Checker, o: OpsSettings) -> None:
    c.in_range("[ops] grace_seconds", o.grace_seconds, 0, 3600)
    c.in_range("[ops] stale_after_heartbeats", o.stale_after_heartbeats, 1, 100)
    c.in_range("[ops] offline_after_heartbeats", o.offline_after_heartbeats, 1, 1000)
    if o.offline_after_heartbeats <= o.stale_after_heartbeats:
        raise c.fail(
            "[ops] offline_after_heartbeats",
            f"{o.offline_after_heartbeats} is not more than stale_after_heartbeats "
            f"({o.stale_after_heartbeats})",
            "make it larger, e.g. 3x stale_after_heartbeats",
        )
    c.in_range("[ops] missing_after_seconds", o.missing_after_seconds, 60, 365 * 86400)
    c.in_range("[ops] backlog_growing_seconds", o.backlog_growing_seconds, 1, 7 * 86400)
    c.in_range("[ops] lag_warn_seconds", o.lag_warn_seconds, 1, 7 * 86400)
    c.in_range("[ops] cert_warn_days", o.cert_warn_days, 0, 825)
    c.in_range("[ops] refresh_seconds", o.refresh_seconds, 0.2, 3600)
    c.in_range("[ops] cache_seconds", o.cache_seconds, 0, 300)


def render(cfg: HubConfig) -> str:
    """The hub.toml ``iplat-hub init`` writes (:mod:`hub.config_sample`)."""
    from hub.config_sample import sample

    return sample(cfg)
