"""The commented hub.toml that ``iplat-hub init`` writes: every key with what it does.

Kept apart from :mod:`hub.config` (loading and checking) because it is long text, not logic;
:func:`hub.config.render` is its public name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hub import config_routing

if TYPE_CHECKING:
    from hub.config import HubConfig


def sample(cfg: HubConfig) -> str:
    """The hub.toml ``iplat-hub init`` writes: every key, with a comment saying what it does."""
    s = cfg.sync
    hosts = ", ".join(json.dumps(h) for h in cfg.tls.server_hosts)
    origins = ", ".join(json.dumps(o) for o in cfg.http.cors_origins)
    o = cfg.ops
    return f"""\
# iplat-hub configuration. Every key is optional; shown are the values in force.
# Restart 'iplat-hub serve' after editing.

# SPIFFE trust domain: identities are spiffe://<trust_domain>/<kind>/<name>.
# Changing it invalidates every issued certificate.
trust_domain = {json.dumps(cfg.trust_domain)}
# gRPC address (HOST:PORT). Port 0 picks a free port, written to serve.json.
listen = {json.dumps(cfg.listen)}
# HOST:PORT agents dial, printed in install commands ("" = the listen address).
public_address = {json.dumps(cfg.public_address)}
# SQLAlchemy URL: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB
database_url = {json.dumps(cfg.database_url)}
# debug, info, warning or error (JSON lines on stderr)
log_level = {json.dumps(cfg.log_level)}

[sync]
# Agents send a heartbeat this often.
heartbeat_seconds = {s.heartbeat_seconds}
# A center silent for longer is flagged stale in every answer.
stale_after_seconds = {s.stale_after_seconds}
# Largest batch agents should send (the hub accepts up to twice this).
max_batch_changes = {s.max_batch_changes}
# Unacknowledged batches an agent may have in flight.
max_inflight_batches = {s.max_inflight_batches}
# Interval of digest reconciliation (anti-entropy).
reconcile_seconds = {s.reconcile_seconds}

[tls]
# Names in the server certificate; agents must dial one of them.
# Changing this needs a new server certificate.
server_hosts = [{hosts}]

[pki]
# Lifetime (days) of center certificates: 'center sign', enrollment and renewal.
agent_cert_days = {cfg.pki.agent_cert_days}
# Lifetime (days) of portal and operator certificates ('iplat-hub client add').
client_cert_days = {cfg.pki.client_cert_days}

[enroll]
# Default lifetime of 'iplat-hub token create' tokens (--ttl overrides it).
token_ttl_seconds = {cfg.enroll.token_ttl_seconds}
# Failed enrollments one address may make per window before it is refused for a while.
max_failures = {cfg.enroll.max_failures}
failure_window_seconds = {cfg.enroll.failure_window_seconds}

[server]
# HTTP/2 keepalive ping interval (seconds).
keepalive_seconds = {cfg.server.keepalive_seconds}
# Seconds open calls get to finish on SIGTERM.
shutdown_grace_seconds = {cfg.server.shutdown_grace_seconds}
# Worker threads for database calls.
store_threads = {cfg.server.store_threads}
# How often 'serve' picks up evictions, bans and CA rotation steps (seconds).
reload_poll_seconds = {cfg.server.reload_poll_seconds}

[http]
# HTTP/JSON API for portals (HOST:PORT; port 0 picks one, written to serve.json; "" = off).
# API keys: 'iplat-hub apikey create NAME'. The OpenAPI document is at /openapi.json.
listen = {json.dumps(cfg.http.listen)}
# Browser origins allowed to call the API (e.g. ["https://portal.example.kr"]; "*" = any).
cors_origins = [{origins}]
# Largest request body accepted (bytes).
max_body_bytes = {cfg.http.max_body_bytes}
# Comment line on idle Server-Sent Events streams this often (seconds).
sse_keepalive_seconds = {cfg.http.sse_keepalive_seconds}

[feed]
# Change-log rows older than this are pruned (seconds; 0 = keep forever). A portal further
# behind resyncs from a snapshot.
retention_seconds = {cfg.feed.retention_seconds}
# How often the serving hub looks for new changes (seconds): the feed's added delay.
poll_seconds = {cfg.feed.poll_seconds}

[ops]
# Operator health: 'iplat-hub status', /metrics and the dashboard /ops/ on the HTTP port.
# A center is online while heard within stale_after_heartbeats x its heartbeat interval
# + grace_seconds, stale until offline_after_heartbeats x interval + grace, offline until
# missing_after_seconds, then missing.
grace_seconds = {o.grace_seconds}
stale_after_heartbeats = {o.stale_after_heartbeats}
offline_after_heartbeats = {o.offline_after_heartbeats}
missing_after_seconds = {o.missing_after_seconds}
# A backlog that has not shrunk for this long (seconds) is a problem.
backlog_growing_seconds = {o.backlog_growing_seconds}
# Change-to-commit lag above this (seconds) is a problem.
lag_warn_seconds = {o.lag_warn_seconds}
# Warn this many days before a center certificate expires.
cert_warn_days = {o.cert_warn_days}
# Loopback callers need no operator API key (false when a local proxy forwards).
local_access = {"true" if o.local_access else "false"}
# Dashboard refresh and database read cache (seconds).
refresh_seconds = {o.refresh_seconds}
cache_seconds = {o.cache_seconds}

{config_routing.render(cfg.routing)}"""
