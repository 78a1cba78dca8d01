"""One sync session with the hub over the ``SyncService.Sync`` stream.

A :class:`Session` dials the hub with mutual TLS, says Hello, reads Welcome and then runs
cooperating tasks on the one stream until it fails or the agent stops:

- sender: outbox changes after ``sent_seq`` go out as ChangeBatches, at most
  ``max_inflight_batches`` unacknowledged (backpressure); idle, it waits for a poll's
  wake-up or a short timer (another process, e.g. ``approve-deletes``, may add changes);
- receiver: Acks drop committed changes (``state.ack``); a rewind restarts sending from
  the hub's high-water mark; Control is handled here; ReconcileBuckets go to the
  reconciler, Deliveries and AnswerAcks to the inbox link;
- heartbeats: backlog, source health and held deletions every ``heartbeat_seconds``;
- reconciler (:mod:`agent.reconcile_link`): a ReconcileDigest every ``reconcile_seconds``
  (or at once when asked), only when nothing is pending;
- answers (:mod:`agent.inbox.link`): the center's answers to routed requests, until the
  hub acknowledges them.

The channel plumbing (options, effective settings, the status-to-error mapping) lives in
:mod:`agent.channel` and is re-exported here.

This module is the agent's only ``grpc.RpcError`` boundary: every stream failure leaves
:meth:`Session.run` as :class:`SyncError` (or :class:`RefusedError` when retrying the same
thing cannot help) carrying the gRPC status code name. The caller decides about retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import grpc

from agent import logs
from agent.channel import (
    Message,
    Settings,
    channel_options,
    jittered,
    open_channel,
    stream_error,
    wait_event,
)
from agent.config import AgentConfig
from agent.errors import RefusedError, SyncError
from agent.inbox.inbox import Inbox
from agent.inbox.link import InboxLink
from agent.pki import TlsMaterial
from agent.reconcile_link import Reconciler
from agent.state import AgentState
from agent.status import (
    CONNECTED,
    K_HUB_HWM,
    K_LAST_ACK_AT,
    K_SESSION_STARTED,
    LiveStatus,
)
from agent.version import __version__
from proto import grpc_services, limits, pb, timeconv, validate

log = logging.getLogger(__name__)

WELCOME_TIMEOUT_SECONDS = 30.0
# The sender re-checks the outbox this often when idle (other processes may add changes).
IDLE_RECHECK_SECONDS = 1.0

__all__ = [
    "IDLE_RECHECK_SECONDS",
    "CertificateEvents",
    "Session",
    "Settings",
    "channel_options",
    "jittered",
    "open_channel",
    "stream_error",
    "wait_event",
]


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
        inbox: Inbox | None = None,
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
        self._reconcile = Reconciler(
            state,
            live,
            self._send,
            self._db,
            lambda: self.settings,
            lambda: len(self._inflight),
            lambda: self._stopping,
            wake,
        )
        # Routed requests: the daemon passes its Inbox (shared with its pump).
        self._inbox = InboxLink(
            inbox if inbox is not None else Inbox(config, state),
            self._send,
            lambda: self._stopping,
        )

    # -- lifetime ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        channel = self.channel = open_channel(self._config, self._tls)
        try:
            stub = grpc_services.SyncServiceStub(channel)
            self._call = stub.Sync()
            if await self._handshake_or_stop(stop):
                await self._run_tasks(stop)
        except grpc.RpcError as exc:
            raise stream_error(exc.code(), exc.details() or "", self._config) from None
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
            asyncio.create_task(self._reconcile.run(IDLE_RECHECK_SECONDS), name="reconciler"),
            asyncio.create_task(self._inbox.run_answers(IDLE_RECHECK_SECONDS), name="answers"),
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
        return stream_error(code, details or "stream finished", self._config)

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
        dropped, last_assigned = await self._reconcile.align(hwm, last_acked, last_assigned)
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
                self._reconcile.kick.set()
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
            "reconcile_buckets": self._reconcile.on_buckets,
            "delivery": self._inbox.on_delivery,
            "answer_ack": self._inbox.on_answer_ack,
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
            self._reconcile.request()
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
