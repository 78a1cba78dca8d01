"""One sync session with the hub over the ``SyncService.Sync`` stream.

A :class:`Session` dials the hub with mutual TLS, says Hello, reads Welcome and then runs
four cooperating tasks on the one stream until it fails or the agent stops:

- sender: outbox changes after ``sent_seq`` go out as ChangeBatches, at most
  ``max_inflight_batches`` unacknowledged (backpressure); idle, it waits for a poll's
  wake-up or a short timer (another process, e.g. ``approve-deletes``, may add changes);
- receiver: Acks drop committed changes (``state.ack``); a rewind restarts sending from
  the hub's high-water mark; Control and ReconcileBuckets are handled here;
- heartbeats: backlog, source health and held deletions every ``heartbeat_seconds``;
- reconciler: a ReconcileDigest every ``reconcile_seconds`` (or at once when asked), only
  when nothing is pending, so the hub compares committed data with ours.

This module is the agent's only ``grpc.RpcError`` boundary: every stream failure leaves
:meth:`Session.run` as :class:`SyncError` (or :class:`RefusedError` when retrying the same
thing cannot help) carrying the gRPC status code name. The caller decides about retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

import grpc

from agent import logs
from agent.config import AgentConfig, SyncConfig
from agent.errors import RefusedError, SyncError
from agent.pki import TlsMaterial
from agent.state import AgentState
from agent.status import (
    CONNECTED,
    K_HUB_BOUND,
    K_HUB_HWM,
    K_LAST_ACK_AT,
    K_LAST_RECONCILE,
    K_SESSION_STARTED,
    LiveStatus,
)
from agent.version import __version__
from proto import grpc_services, limits, pb, records, timeconv, validate

log = logging.getLogger(__name__)

WELCOME_TIMEOUT_SECONDS = 30.0
# The sender re-checks the outbox this often when idle (other processes may add changes).
IDLE_RECHECK_SECONDS = 1.0
# Keepalive pings detect a dead link the app cannot see (writes only fill buffers); the
# hub accepts pings every 10 s (hub.server.server_options).
KEEPALIVE_MS = 20_000
KEEPALIVE_TIMEOUT_MS = 10_000
# A reconcile round the hub never answered stops blocking new rounds after this long.
ROUND_TIMEOUT_SECONDS = 120.0
_REFUSED = {
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAUTHENTICATED,
}

# Words in gRPC's connect errors that point at certificates rather than the network.
_TLS_WORDS = ("ssl", "tls", "handshake", "certificate", "hostname", "verif", "alert", "x509")

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


def _error(code: grpc.StatusCode | None, details: str, config: AgentConfig) -> SyncError:
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
        if any(word in lowered for word in _TLS_WORDS):
            hint = (
                "the TLS handshake failed: check that ca.pem is the hub's current bundle, that "
                "the hub's certificate names the host in `hub` (or set tls.server_name), and "
                "that agent.crt was not revoked"
            )
        return SyncError(f"hub {hub} unavailable: {details}; {hint}", code=name)
    return SyncError(f"sync stream with {hub} failed ({name}): {details}", code=name)


class CertificateEvents(Protocol):
    """Where the session hands the hub's certificate Controls (agent.rotation.Rotator)."""

    def renew_requested(self, reason: str) -> None: ...

    async def trust_bundle(self, pem: bytes) -> None: ...


@dataclass
class _Batch:
    last_seq: int
    generation: int


class Session:
    """One stream's lifetime. ``run`` returns when ``stop`` is set; raises SyncError otherwise."""

    def __init__(
        self,
        config: AgentConfig,
        state: AgentState,
        tls: TlsMaterial,
        wake: asyncio.Event,
        live: LiveStatus,
        *,
        drain_seconds: float = 5.0,
        certificates: CertificateEvents | None = None,
    ) -> None:
        self._config = config
        self._certificates = certificates
        # The mutual-TLS channel while run() is active: certificate renewal rides on it.
        self.channel: grpc.aio.Channel | None = None
        self._state = state
        self._tls = tls
        self._wake = wake
        self._live = live
        self._drain_seconds = drain_seconds
        self.settings = Settings.from_config(config.sync)
        self.welcomed = False
        self._call: Any = None
        self._write_lock = asyncio.Lock()
        self._sent_seq = 0
        self._generation = 0
        self._inflight: deque[_Batch] = deque()
        self._progress = asyncio.Event()  # set on every Ack
        self._stopping = False
        self._reconcile_due = False
        self._reconcile_kick = asyncio.Event()
        self._round = 0
        self._round_open_since: float | None = None

    # -- lifetime ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        channel = self.channel = open_channel(self._config, self._tls)
        try:
            stub = grpc_services.SyncServiceStub(channel)
            self._call = stub.Sync()
            if await self._handshake_or_stop(stop):
                await self._run_tasks(stop)
        except grpc.RpcError as exc:
            raise _error(exc.code(), exc.details() or "", self._config) from None
        finally:
            self.channel = None
            if self._call is not None:
                self._call.cancel()
            await channel.close(grace=None)

    async def _handshake_or_stop(self, stop: asyncio.Event) -> bool:
        """Hello/Welcome, abandoned if the agent stops meanwhile; True when welcomed."""
        handshake = asyncio.ensure_future(self._handshake())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({handshake, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not handshake.done():
                handshake.cancel()
                await asyncio.gather(handshake, return_exceptions=True)
        if handshake.cancelled():
            return False
        handshake.result()
        return True

    async def _run_tasks(self, stop: asyncio.Event) -> None:
        tasks = {
            asyncio.create_task(self._receiver(), name="receiver"),
            asyncio.create_task(self._sender(), name="sender"),
            asyncio.create_task(self._heartbeats(), name="heartbeats"),
            asyncio.create_task(self._reconciler(), name="reconciler"),
            asyncio.create_task(self._stopper(stop), name="stopper"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        failed = [t for t in done if not t.cancelled() and t.exception() is not None]
        if not failed or self._stopping:
            return  # a requested shutdown: how the stream ended no longer matters
        # Prefer the receiver's error: it carries the status the hub ended the stream with.
        failed.sort(key=lambda t: t.get_name() != "receiver")
        exc = failed[0].exception()
        assert exc is not None
        raise exc

    async def _finished_error(self) -> SyncError:
        code = await self._call.code()
        details = await self._call.details()
        return _error(code, details or "stream finished", self._config)

    async def _stopper(self, stop: asyncio.Event) -> None:
        """On shutdown: stop sending, give in-flight batches a moment to be acknowledged."""
        await stop.wait()
        self._stopping = True
        deadline = time.monotonic() + self._drain_seconds
        while self._inflight and time.monotonic() < deadline:
            self._progress.clear()
            await wait_event(self._progress, deadline - time.monotonic())
        async with self._write_lock:
            with contextlib.suppress(grpc.RpcError, asyncio.InvalidStateError):
                await self._call.done_writing()

    async def _send(self, request: Message) -> None:
        async with self._write_lock:
            try:
                await self._call.write(request)
            except asyncio.InvalidStateError:
                # The stream already ended (refused connection, hub gone): report its status.
                raise await self._finished_error() from None

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # -- Hello / Welcome --------------------------------------------------------------

    async def _handshake(self) -> None:
        state = self._state
        last_acked = await self._db(state.last_acked_seq)
        last_assigned = await self._db(state.last_assigned_seq)
        await self._send(
            pb.SyncRequest(
                hello=pb.Hello(
                    center_id=self._config.center_id,
                    agent_version=__version__,
                    last_acked_seq=last_acked,
                    last_assigned_seq=last_assigned,
                    heartbeat_seconds=self._config.sync.heartbeat_seconds,
                )
            )
        )
        try:
            async with asyncio.timeout(WELCOME_TIMEOUT_SECONDS):
                response = await self._call.read()
        except TimeoutError:
            raise SyncError(
                f"hub {self._config.hub} accepted the connection but sent no Welcome within "
                f"{WELCOME_TIMEOUT_SECONDS:.0f}s; it may be overloaded; retrying",
                code="DEADLINE_EXCEEDED",
            ) from None
        if response is grpc.aio.EOF:
            raise await self._finished_error()
        if response.WhichOneof("msg") != "welcome":
            raise SyncError(
                f"hub sent {response.WhichOneof('msg')} before Welcome: protocol mismatch; "
                "check that agent and hub versions are compatible",
                code="FAILED_PRECONDITION",
            )
        welcome = response.welcome
        hwm = int(welcome.high_water_mark)
        self.settings = self.settings.merged(welcome.settings)
        bound = await self._db(state.get_meta, K_HUB_BOUND)
        if not bound and hwm > 0 and hwm <= last_assigned:
            # A state file that never talked to this hub (reinstalled agent, lost state)
            # can have numbered its changes below a hwm left by a previous life: those
            # seqs are not ours, so acknowledging by them would drop unsent changes.
            renumbered = await self._db(state.ensure_seq_above, hwm)
            last_assigned = await self._db(state.last_assigned_seq)
            self._reconcile_due = True
            logs.event(
                log,
                "hub_knows_previous_state",
                logging.WARNING,
                hub_hwm=hwm,
                renumbered=renumbered,
                action="first contact of this state file with a hub that has data; reconciling",
            )
        if hwm > last_assigned:
            # The hub committed seqs this state never assigned: our state file is younger
            # than the hub's copy (lost or restored). Number ours above it and compare.
            renumbered = await self._db(state.ensure_seq_above, hwm)
            self._reconcile_due = True
            logs.event(
                log,
                "hub_ahead_of_agent",
                logging.WARNING,
                hub_hwm=hwm,
                last_assigned_seq=last_assigned,
                renumbered=renumbered,
                action="local state is newer than the hub's record of it; reconciling",
            )
        elif hwm < last_acked:
            # The hub lost commits it once acknowledged (restored from a backup). Resending
            # everything is not needed: a reconciliation finds exactly what it lacks.
            self._reconcile_due = True
            logs.event(
                log,
                "hub_lost_data",
                logging.WARNING,
                hub_hwm=hwm,
                last_acked_seq=last_acked,
                action="the hub was probably restored from a backup; reconciling now",
            )
        dropped = await self._db(state.ack, hwm)
        if not bound:
            await self._db(state.set_meta, K_HUB_BOUND, "1")
        self._sent_seq = hwm
        self.welcomed = True
        now = time.time()
        await self._live.connection(CONNECTED, **{K_SESSION_STARTED: now, K_HUB_HWM: hwm})
        logs.event(
            log,
            "session_start",
            hub=self._config.hub,
            hub_hwm=hwm,
            last_acked_seq=last_acked,
            last_assigned_seq=last_assigned,
            dropped=dropped,
            heartbeat_seconds=self.settings.heartbeat_seconds,
            max_batch_changes=self.settings.max_batch_changes,
            max_inflight_batches=self.settings.max_inflight_batches,
            reconcile_seconds=self.settings.reconcile_seconds,
        )

    # -- sender -----------------------------------------------------------------------

    async def _sender(self) -> None:
        while not self._stopping:
            if len(self._inflight) >= self.settings.max_inflight_batches:
                self._progress.clear()
                await self._progress.wait()
                continue
            # Cleared before reading the outbox: a poll finishing after the read sets it
            # again, so no wake-up is lost.
            self._wake.clear()
            changes = await self._db(
                self._checked_pending, self._sent_seq, self.settings.max_batch_changes
            )
            if not changes:
                self._reconcile_kick.set()
                await wait_event(self._wake, IDLE_RECHECK_SECONDS)
                continue
            prev = self._sent_seq
            # Filled in place: nesting constructors would copy all changes twice.
            request = pb.SyncRequest()
            request.batch.center_id = self._config.center_id
            request.batch.prev_seq = prev
            request.batch.changes.extend(changes)
            await self._send(request)
            self._sent_seq = int(changes[-1].seq)
            self._inflight.append(_Batch(self._sent_seq, self._generation))
            logs.event(
                log,
                "batch_sent",
                logging.DEBUG,
                prev_seq=prev,
                last_seq=self._sent_seq,
                changes=len(changes),
                inflight=len(self._inflight),
            )
        await asyncio.Event().wait()  # stopping: park until the session ends

    def _checked_pending(self, after_seq: int, limit: int) -> list[Message]:
        """The next changes to send, checked by the rules the hub enforces.

        Sources drop bad records, so a failure here is a bug. Sending such a batch would
        only make the hub end the stream; refusing it here gives the same advice without
        the round trip (and gRPC cannot mix up the hub's status with a racing write).
        """
        changes: list[Message] = self._state.pending(after_seq, limit)
        for change in changes:
            problems = validate.change(change)
            if change.center_id != self._config.center_id:
                problems.append(f"belongs to center {change.center_id!r}")
            if problems:
                raise RefusedError(
                    f"change seq {change.seq} for record {change.key.id[:80]!r} breaks the "
                    f"hub's record rules ({'; '.join(problems)}), so it is not sent. Fix the "
                    "record in its source; the agent retries and sends the corrected record",
                    code="INVALID_ARGUMENT",
                )
        return changes

    # -- receiver ---------------------------------------------------------------------

    async def _receiver(self) -> None:
        handlers: dict[str, Callable[[Message], Awaitable[None]]] = {
            "ack": self._on_ack,
            "control": self._on_control,
            "reconcile_buckets": self._on_buckets,
        }
        while True:
            response = await self._call.read()
            if response is grpc.aio.EOF:
                if self._stopping:
                    return  # we half-closed on shutdown; the hub finished the stream
                raise await self._finished_error()
            kind = response.WhichOneof("msg")
            handler = handlers.get(kind or "")
            if handler is None:
                logs.event(log, "unexpected_message", logging.WARNING, kind=kind)
                continue
            await handler(getattr(response, kind))

    async def _on_ack(self, ack: Message) -> None:
        hwm = int(ack.high_water_mark)
        # The hub answers every batch with exactly one Ack, in order.
        batch = self._inflight.popleft() if self._inflight else None
        dropped = await self._db(self._ack_and_record, hwm)
        if ack.rewind and (batch is None or batch.generation == self._generation):
            # The hub has not committed up to our prev_seq: resend from its mark. Batches
            # already in flight will be answered with rewinds too; their generation is
            # older, so they are ignored rather than rewinding again.
            self._generation += 1
            logs.event(log, "rewind", logging.WARNING, hub_hwm=hwm, sent_seq=self._sent_seq)
            self._sent_seq = hwm
        logs.event(
            log,
            "ack",
            logging.DEBUG,
            hub_hwm=hwm,
            applied=ack.applied,
            duplicates=ack.duplicates,
            dropped=dropped,
        )
        self._progress.set()
        self._wake.set()

    def _ack_and_record(self, hwm: int) -> int:
        dropped = self._state.ack(hwm)
        self._live.update_now({K_LAST_ACK_AT: time.time(), K_HUB_HWM: hwm})
        return int(dropped)

    async def _on_control(self, control: Message) -> None:
        action = control.WhichOneof("action")
        if action == "resync":
            logs.event(log, "resync_requested", reason=control.resync.reason)
            self._reconcile_due = True
            self._reconcile_kick.set()
        elif action == "settings":
            self.settings = self.settings.merged(control.settings)
            logs.event(log, "settings_changed", **asdict(self.settings))
        elif action in ("trust_bundle", "renew"):
            await self._on_certificate_control(action, control)

    async def _on_certificate_control(self, action: str, control: Message) -> None:
        certificates = self._certificates
        if certificates is None:
            logs.event(log, "certificate_control_ignored", logging.WARNING, action=action)
        elif action == "trust_bundle":
            # Written for the next connection; this stream keeps its handshake's trust.
            await certificates.trust_bundle(bytes(control.trust_bundle.trust_bundle_pem))
        else:
            # Only a request: the renewal runs beside the stream, never blocking the receiver.
            certificates.renew_requested(control.renew.reason)

    async def _on_buckets(self, msg: Message) -> None:
        if msg.round != self._round or self._round_open_since is None:
            logs.event(log, "reconcile_stale_answer", logging.WARNING, round=msg.round)
            return
        hub_buckets = {
            int(b.index): [(records.key_from_message(e.key), bytes(e.hash)) for e in b.entries]
            for b in msg.buckets
        }
        try:
            upserts, deletes = await self._db(
                self._state.queue_repair, hub_buckets, limits.RECONCILE_BUCKETS
            )
        except ValueError as exc:
            raise SyncError(
                f"the hub's reconcile answer is invalid ({exc}); report this to the hub "
                "operator with the agent and hub versions",
                code="FAILED_PRECONDITION",
            ) from None
        report = pb.ReconcileReport(
            round=msg.round,
            buckets_differing=len(hub_buckets),
            upserts_queued=upserts,
            deletes_queued=deletes,
        )
        await self._send(pb.SyncRequest(reconcile_report=report))
        self._round_open_since = None
        summary = {
            "at": time.time(),
            "round": int(msg.round),
            "buckets_differing": len(hub_buckets),
            "upserts_queued": upserts,
            "deletes_queued": deletes,
        }
        await self._live.update({K_LAST_RECONCILE: summary})
        level = logging.WARNING if upserts or deletes else logging.INFO
        logs.event(log, "reconcile_done", level, **summary)
        if upserts or deletes:
            self._wake.set()

    # -- heartbeats -------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            await self._send(pb.SyncRequest(heartbeat=await self._db(self._heartbeat)))
            await asyncio.sleep(jittered(self.settings.heartbeat_seconds))

    def _heartbeat(self) -> Message:
        state = self._state
        sources = [
            pb.SourceHealth(
                name=row["name"],
                last_poll=timeconv.from_epoch(int(row["at"])),
                ok=row["ok"],
                records=row["records"],
                problems=row["problems"],
                first_problem=row["first_problem"][: limits.MAX_TEXT_LENGTH],
            )
            for row in state.source_health()
        ]
        return pb.Heartbeat(
            sent_at=timeconv.now_timestamp(),
            backlog=state.backlog(),
            last_assigned_seq=state.last_assigned_seq(),
            sources=sources,
            quarantined_deletes=sum(h.deletes for h in state.holds()),
        )

    # -- reconciliation ---------------------------------------------------------------

    async def _reconciler(self) -> None:
        next_at = time.monotonic() + jittered(self.settings.reconcile_seconds)
        while True:
            due = self._reconcile_due or time.monotonic() >= next_at
            round_open = (
                self._round_open_since is not None
                and time.monotonic() - self._round_open_since < ROUND_TIMEOUT_SECONDS
            )
            if due and not round_open and not self._stopping and await self._outbox_empty():
                await self._send_digest()
                next_at = time.monotonic() + jittered(self.settings.reconcile_seconds)
            self._reconcile_kick.clear()
            wait = max(0.05, min(IDLE_RECHECK_SECONDS, next_at - time.monotonic()))
            await wait_event(self._reconcile_kick, wait)

    async def _outbox_empty(self) -> bool:
        # Only compare once the hub committed all we have: otherwise every change still in
        # the outbox would show up as a difference and be queued twice.
        return not self._inflight and await self._db(self._state.backlog) == 0

    async def _send_digest(self) -> None:
        seq, digests = await self._db(self._state.digests_as_of, limits.RECONCILE_BUCKETS)
        self._round += 1
        self._round_open_since = time.monotonic()
        self._reconcile_due = False
        await self._send(
            pb.SyncRequest(
                reconcile_digest=pb.ReconcileDigest(
                    round=self._round,
                    bucket_count=limits.RECONCILE_BUCKETS,
                    digests=records.pack_digests(digests),
                    as_of_seq=seq,
                )
            )
        )
        logs.event(log, "reconcile_digest_sent", round=self._round, as_of_seq=seq)
