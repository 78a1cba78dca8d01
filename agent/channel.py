"""The hub connection's plumbing: channel options, effective settings, the error mapping.

Shared by :mod:`agent.client` (the sync session) and the modules that run beside it
(:mod:`agent.rotation`, :mod:`agent.reconcile_link`, :mod:`agent.inbox`). :func:`stream_error`
turns a gRPC status into the agent's error saying what to do; it is called from the one
place that catches ``grpc.RpcError`` (``agent.client.Session.run``) and from the session's
reading of a finished stream.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace
from typing import Any

import grpc

from agent.config import AgentConfig, SyncConfig
from agent.errors import RefusedError, SyncError
from agent.pki import TlsMaterial
from proto import limits

# Keepalive pings detect a dead link the app cannot see (writes only fill buffers); the
# hub accepts pings every 10 s (hub.server.server_options).
KEEPALIVE_MS = 20_000
KEEPALIVE_TIMEOUT_MS = 10_000

# Words in gRPC's connect errors that point at certificates rather than the network.
_TLS_WORDS = ("ssl", "tls", "handshake", "certificate", "hostname", "verif", "alert", "x509")
# Words of a connection cut before the handshake could fail on a certificate.
_DROPPED_WORDS = ("connection reset", "socket closed", "unexpected eof", "connection closed")

Message = Any  # generated protobuf messages carry no static types


@dataclass(frozen=True)
class Settings:
    """The session's effective settings: the hub's (from Welcome/Control) where it set them."""

    heartbeat_seconds: float
    max_batch_changes: int
    max_inflight_batches: int
    reconcile_seconds: float

    @classmethod
    def from_config(cls, sync: SyncConfig) -> Settings:
        return cls(
            heartbeat_seconds=float(sync.heartbeat_seconds),
            max_batch_changes=min(sync.batch_changes, limits.MAX_BATCH_CHANGES),
            max_inflight_batches=limits.DEFAULT_MAX_INFLIGHT_BATCHES,
            reconcile_seconds=float(sync.reconcile_seconds),
        )

    def merged(self, hub: Message) -> Settings:
        """Apply a ``pb.Settings``; zero fields keep ours, batch size never exceeds ours."""
        out = self
        if hub.heartbeat_seconds:
            out = replace(out, heartbeat_seconds=float(hub.heartbeat_seconds))
        if hub.max_batch_changes:
            out = replace(out, max_batch_changes=min(out.max_batch_changes, hub.max_batch_changes))
        if hub.max_inflight_batches:
            out = replace(out, max_inflight_batches=int(hub.max_inflight_batches))
        if hub.reconcile_seconds:
            out = replace(out, reconcile_seconds=float(hub.reconcile_seconds))
        return out


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; True if it was set.

    ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11, ``wait_for`` can
    swallow a cancellation that arrives as the event is set, and a task looping on it then
    never ends (a session that cannot be torn down).
    """
    try:
        async with asyncio.timeout(max(0.0, timeout)):
            await event.wait()
    except TimeoutError:
        return False
    return True


def jittered(seconds: float, spread: float = 0.1) -> float:
    """``seconds`` +- ``spread`` share, so thousands of agents do not tick in step."""
    return seconds * random.uniform(1.0 - spread, 1.0 + spread)


def channel_options(config: AgentConfig) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", limits.MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", limits.MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", KEEPALIVE_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.max_pings_without_data", 0),
        # The runner reconnects with its own jittered backoff; gRPC must not also retry.
        ("grpc.enable_retries", 0),
    ]
    if config.tls.server_name:
        options.append(("grpc.ssl_target_name_override", config.tls.server_name))
    return options


def open_channel(config: AgentConfig, tls: TlsMaterial) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca_pem,
        private_key=tls.key_pem,
        certificate_chain=tls.cert_pem,
    )
    return grpc.aio.secure_channel(config.hub, credentials, options=channel_options(config))


def stream_error(code: grpc.StatusCode | None, details: str, config: AgentConfig) -> SyncError:
    """The agent's error for a stream that ended with ``code``, saying what to do."""
    name = code.name if code is not None else "UNKNOWN"
    details = (details or "").strip() or "no details"
    hub, center = config.hub, config.center_id
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return RefusedError(
            f"the hub refused center {center}: {details}. Check with the hub operator that the "
            f"center is registered and agent.crt was signed for it (iplat-hub center list)",
            code=name,
        )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return RefusedError(
            f"the hub did not accept this agent's certificate: {details}. Ask the hub operator "
            "whether it was revoked or issued by another CA; then get agent.crt signed again",
            code=name,
        )
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return RefusedError(
            f"the hub rejected data from this center: {details}. Fix the record named here in "
            "its source; the agent retries and sends the corrected record",
            code=name,
        )
    if code == grpc.StatusCode.UNAVAILABLE:
        hint = "check that the hub runs and that outbound TCP to it is allowed"
        lowered = details.lower()
        if any(word in lowered for word in _DROPPED_WORDS):
            # A TCP load balancer in front of a stopped hub accepts the connection and then
            # drops it: that reads as a failed handshake, but no certificate is at fault.
            hint = (
                "the connection was closed during the TLS handshake: the hub (or the hub "
                "behind a load balancer) is most likely down or restarting; the agent retries. "
                "If it persists while the hub runs, check ca.pem and agent.crt"
            )
        elif any(word in lowered for word in _TLS_WORDS):
            hint = (
                "the TLS handshake failed: check that ca.pem is the hub's current bundle, that "
                "the hub's certificate names the host in `hub` (or set tls.server_name), and "
                "that agent.crt was not revoked"
            )
        return SyncError(f"hub {hub} unavailable: {details}; {hint}", code=name)
    return SyncError(f"sync stream with {hub} failed ({name}): {details}", code=name)
