"""SyncService.Sync: one long-lived stream per agent (docs/architecture.md, "Sync protocol").

The handler reads one message at a time and finishes it before reading the next: a batch
is validated in full, applied in a store thread, and acknowledged only after that
transaction committed. Not reading while applying is the backpressure (DESIGN.md 5.9):
gRPC flow control then stops the agent once its window fills.

Open streams are kept in a per-center registry, one stream per center: a new stream from
the same center closes the older one. The registry lets the hub push Control messages
(:meth:`SyncService.request_resync`, :meth:`SyncService.broadcast`) and end sessions
(:meth:`SyncService.close`). ``on_session_start`` runs right after Welcome (the hub uses
it to push the trust bundle and ask for renewal during a CA rotation). Routed items go
down and the centers' answers come up through ``dispatcher`` (:mod:`hub.routing.dispatch`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from grpc._cython import cygrpc
from iplatform.v1 import sync_pb2_grpc

from hub import auth, logs
from hub.config import SyncSettings
from hub.errors import StoreError, UnknownCenter
from hub.health.session import SessionHealth
from proto import codes, pb, records, timeconv, validate

if TYPE_CHECKING:
    from hub.metrics import SyncMetrics
    from hub.routing.dispatch import Dispatcher
    from hub.server import StoreAccess

log = logging.getLogger("hub.sync")

MAX_BUCKETS = 4096
Context = Any  # grpc.aio.ServicerContext; grpc ships no type information


class _Abort(Exception):
    """Ends a session with a status; raised inside the loop, turned into context.abort."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass
class Session:
    """One open Sync stream of one center."""

    center_id: str
    context: Context
    agent_version: str
    started: float
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    close_details: str = ""
    batches: int = 0
    changes: int = 0
    health: SessionHealth | None = None
    """Commit lag and sync summaries for operator health (hub.health.session)."""
    last_heard: float | None = None
    """Epoch seconds of the last message (or end of stream) read from the agent."""

    async def send(self, response: Any) -> None:
        # Acks from the stream loop and Control pushes from elsewhere share one HTTP/2
        # stream; writes must not interleave.
        async with self.write_lock:
            await self.context.write(response)

    def request_close(self, code: grpc.StatusCode, details: str) -> None:
        if not self.closing.is_set():
            self.close_code, self.close_details = code, details
            self.closing.set()


class SyncService(sync_pb2_grpc.SyncServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.SyncService."""

    def __init__(
        self,
        access: StoreAccess,
        trust_domain: str,
        settings: SyncSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._store = access.store
        self._trust_domain = trust_domain
        self._settings = settings
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self.on_session_start: Callable[[Session], Awaitable[None]] | None = None
        self.metrics: SyncMetrics | None = None
        """Process-local counters for /metrics (hub.metrics); set by the server."""
        self.dispatcher: Dispatcher | None = None
        """Routed items to and answers from agents (hub.routing.dispatch); set by the server."""
        # A silent stream is dead even if TCP has not noticed yet.
        self._idle_limit = float(
            max(2 * settings.stale_after_seconds, 4 * settings.heartbeat_seconds)
        )

    # -- registry ---------------------------------------------------------------------------

    def connected(self) -> list[str]:
        """Center ids with an open stream."""
        return sorted(self._sessions)

    async def request_resync(self, center_id: str, reason: str) -> bool:
        """Ask a connected agent to reconcile now; False if it has no open stream."""
        session = self._sessions.get(center_id)
        if session is None or session.closing.is_set():
            return False
        await session.send(
            pb.SyncResponse(control=pb.Control(resync=pb.ResyncRequest(reason=reason)))
        )
        logs.event(log, "resync_requested", center_id=center_id, reason=reason)
        return True

    def sessions(self) -> list[Session]:
        """The open sessions (a copy)."""
        return list(self._sessions.values())

    async def push(self, session: Session, response: Any) -> bool:
        """Send ``response`` on one session; False if it is closing or the write failed."""
        if session.closing.is_set():
            return False
        try:
            await session.send(response)
        except (grpc.RpcError, grpc.aio.UsageError, cygrpc.BaseError):
            # The stream ended meanwhile (grpc.aio raises its internal ExecuteBatchError for a
            # write to a finished call); the stream's own loop reports why.
            return False
        return True

    async def broadcast(self, response: Any) -> int:
        """Send ``response`` to every open session; return how many got it."""
        sent = await asyncio.gather(*(self.push(s, response) for s in self.sessions()))
        return sum(sent)

    def close(self, center_id: str, code: grpc.StatusCode, details: str) -> bool:
        """End a center's stream (after the message in progress); False if none is open."""
        session = self._sessions.get(center_id)
        if session is None:
            return False
        session.request_close(code, details)
        return True

    def close_all(self, details: str) -> None:
        for session in list(self._sessions.values()):
            session.request_close(grpc.StatusCode.UNAVAILABLE, details)

    # -- the stream -------------------------------------------------------------------------

    async def Sync(self, request_iterator: Any, context: Context) -> None:
        try:
            who = auth.peer_identity(context, self._trust_domain)
        except auth.Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            return
        session: Session | None = None
        try:
            session = await self._hello(context, who.name)
            await self._serve(session)
        except _Abort as stop:
            fields: dict[str, str] = {"identity": who.uri}
            if session is not None or who.kind == "center":
                fields = {"center_id": session.center_id if session else who.name}
            logs.event(
                log,
                "session_refused" if session is None else "session_aborted",
                logging.WARNING,
                code=stop.code.name,
                reason=stop.details,
                **fields,
            )
            await context.abort(stop.code, stop.details)
        except StoreError as exc:
            logs.event(log, "store_error", logging.ERROR, center_id=who.name, error=str(exc))
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry later"
            )
        finally:
            if session is not None:
                await self._end(session)

    async def _hello(self, context: Context, caller: str) -> Session:
        first = await context.read()
        if first is grpc.aio.EOF:
            raise _Abort(grpc.StatusCode.FAILED_PRECONDITION, "stream closed before Hello")
        if first.WhichOneof("msg") != "hello":
            raise _Abort(grpc.StatusCode.FAILED_PRECONDITION, "the first message must be Hello")
        hello = first.hello
        if hello.center_id != caller:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Hello is for center {hello.center_id!r} but the certificate is for {caller!r}; "
                "fix center_id in agent.toml or enroll this agent for that center",
            )
        if await self._access.read(self._store.get_center, caller) is None:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"center not registered: run iplat-hub center add {caller} on the hub",
            )
        now = int(self._clock())
        await self._access.write(
            self._store.record_hello,
            caller,
            hello.agent_version,
            now,
            heartbeat_seconds=hello.heartbeat_seconds,
        )
        state = await self._access.read(self._store.sync_state, caller)
        session = Session(caller, context, hello.agent_version, time.monotonic())
        session.health = SessionHealth.start(state.hwm, self._clock())
        session.last_heard = self._clock()
        older = self._sessions.get(caller)
        self._sessions[caller] = session
        if older is not None:
            older.request_close(
                grpc.StatusCode.ABORTED, "superseded by a newer stream from this center"
            )
            logs.event(log, "session_superseded", logging.WARNING, center_id=caller)
        s = self._settings
        welcome = pb.Welcome(
            high_water_mark=state.hwm,
            settings=pb.Settings(
                heartbeat_seconds=s.heartbeat_seconds,
                max_batch_changes=s.max_batch_changes,
                max_inflight_batches=s.max_inflight_batches,
                reconcile_seconds=s.reconcile_seconds,
            ),
            server_time=timeconv.from_epoch(now),
        )
        await session.send(pb.SyncResponse(welcome=welcome))
        if self.on_session_start is not None:
            await self.on_session_start(session)
        if self.dispatcher is not None:
            self.dispatcher.start(session)
        logs.event(
            log,
            "session_start",
            center_id=caller,
            agent_version=hello.agent_version,
            peer=context.peer(),
            hwm=state.hwm,
            last_acked_seq=hello.last_acked_seq,
            last_assigned_seq=hello.last_assigned_seq,
        )
        return session

    async def _serve(self, session: Session) -> None:
        while True:
            request = await self._next(session)
            if request is None:
                return
            kind = request.WhichOneof("msg")
            if kind == "batch":
                await self._batch(session, request.batch)
            elif kind == "heartbeat":
                await self._heartbeat(session, request.heartbeat)
            elif kind == "reconcile_digest":
                await self._digest(session, request.reconcile_digest)
            elif kind == "reconcile_report":
                await self._report(session, request.reconcile_report)
            elif kind == "delivery_ack" and self.dispatcher is not None:
                await self.dispatcher.delivery_ack(session, request.delivery_ack)
            elif kind == "item_answer" and self.dispatcher is not None:
                await self.dispatcher.item_answer(session, request.item_answer)
            elif kind == "hello":
                raise _Abort(
                    grpc.StatusCode.FAILED_PRECONDITION, "Hello may be sent only once per stream"
                )
            else:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT, "empty SyncRequest; upgrade the agent"
                )

    async def _next(self, session: Session) -> Any | None:
        """The next request, None at end of stream; aborts if closed or idle too long."""
        read = asyncio.ensure_future(session.context.read())
        closing = asyncio.ensure_future(session.closing.wait())
        try:
            done, _ = await asyncio.wait(
                {read, closing}, timeout=self._idle_limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closing.cancel()
        if read in done:
            message = read.result()
            session.last_heard = self._clock()
            return None if message is grpc.aio.EOF else message
        read.cancel()
        if closing in done:
            raise _Abort(session.close_code, session.close_details)
        raise _Abort(
            grpc.StatusCode.UNAVAILABLE,
            f"no message for {self._idle_limit:.0f}s (heartbeats stopped); reconnect",
        )

    def _check_batch(self, center_id: str, batch: Any, changes: list[Any]) -> None:
        # ``changes`` is ``list(batch.changes)``: walking the list, not the repeated field,
        # reuses one wrapper object per change (this runs for every change received).
        if batch.center_id != center_id:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"batch is for center {batch.center_id!r} but the caller is {center_id!r}; "
                "nothing applied",
            )
        limit = 2 * self._settings.max_batch_changes
        if len(changes) > limit:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch has {len(changes)} changes, the hub accepts at most {limit}; "
                f"send at most max_batch_changes ({self._settings.max_batch_changes}) per batch; "
                "nothing applied",
            )
        for change in changes:
            if change.center_id != center_id:
                raise _Abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"change seq {change.seq} is for center {change.center_id!r} but the caller is "
                    f"{center_id!r}; nothing of this batch was applied",
                )
        previous = batch.prev_seq
        seen: set[tuple[int, str]] = set()
        for change in changes:
            problems = validate.change(change)
            seq = change.seq
            if not problems and seq <= previous:
                problems = [f"seq {seq} does not increase (previous {previous})"]
            key = records.key_from_message(change.key)
            if not problems and key in seen:
                problems = ["a second change for the same record in one batch"]
            if problems:
                # Described only on failure: this loop runs for every change the hub receives.
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"invalid record {_describe(change)}: {'; '.join(problems)}; nothing of "
                    "this batch was applied: fix the record at the center",
                )
            seen.add(key)
            previous = seq

    async def _batch(self, session: Session, batch: Any) -> None:
        changes = list(batch.changes)
        try:
            self._check_batch(session.center_id, batch, changes)
        except _Abort:
            if self.metrics is not None:
                self.metrics.batch_rejected()
            raise
        now = int(self._clock())
        started = time.perf_counter()
        try:
            # Converting to rows needs no database: done here, like the checks above, so
            # the store's write lock (SQLite: one writer) is held only for the transaction.
            prepared = self._store.prepare_batch(session.center_id, changes, now)
            result = await self._access.write(self._store.apply_prepared, prepared, batch.prev_seq)
        except ValueError as exc:
            # The store refuses what it cannot store exactly; its transaction rolled back.
            if self.metrics is not None:
                self.metrics.batch_rejected()
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"{exc}; nothing of this batch was applied"
            ) from None
        except UnknownCenter:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"center not registered: run iplat-hub center add {session.center_id} on the hub",
            ) from None
        # The transaction has committed: only now may the agent forget these changes.
        await session.send(
            pb.SyncResponse(
                ack=pb.Ack(
                    high_water_mark=result.hwm,
                    applied=result.applied,
                    duplicates=result.duplicates,
                    rewind=result.rewind,
                )
            )
        )
        session.batches += 1
        session.changes += result.applied
        if self.metrics is not None:
            self.metrics.batch_committed(
                result.applied, result.duplicates, result.rewind, time.perf_counter() - started
            )
        if session.health is not None:
            session.health.batch_committed(
                result.applied, result.duplicates, result.hwm, self._clock()
            )
        logs.event(
            log,
            "batch_applied",
            logging.DEBUG if not result.rewind else logging.INFO,
            center_id=session.center_id,
            prev_seq=batch.prev_seq,
            changes=len(changes),
            applied=result.applied,
            duplicates=result.duplicates,
            rewind=result.rewind,
            hwm=result.hwm,
        )

    async def _heartbeat(self, session: Session, hb: Any) -> None:
        sources = [
            {
                "name": s.name,
                "last_poll": timeconv.to_epoch(s.last_poll) if s.HasField("last_poll") else None,
                "ok": s.ok,
                "records": s.records,
                "problems": s.problems,
                "first_problem": s.first_problem,
            }
            for s in hb.sources
        ]
        lag, synced = None, None
        if session.health is not None:
            lag = session.health.lag.heartbeat(hb.last_assigned_seq, hb.backlog, self._clock())
            synced = session.health.summary_due(self._clock())
        caused = await self._access.write(
            self._store.record_heartbeat,
            session.center_id,
            int(self._clock()),
            backlog=hb.backlog,
            quarantined_deletes=hb.quarantined_deletes,
            sources=sources,
            commit_lag_seconds=lag,
            synced=synced,
        )
        for kind, detail in caused:
            # Operators grep the hub's log by center: what the agent reported, once per change.
            if kind == "source_failing":
                logs.event(
                    log,
                    "center_source_failing",
                    logging.WARNING,
                    center_id=session.center_id,
                    action=(
                        "the center fixes the source; the hub serves its last good data"
                        if not detail["ok"]
                        else "the center fixes these rows; they are left out until then"
                    ),
                    **detail,
                )
            elif kind == "source_recovered":
                logs.event(log, "center_source_recovered", center_id=session.center_id, **detail)
            elif kind == "deletes_held":
                logs.event(
                    log,
                    "center_deletes_held",
                    logging.WARNING,
                    center_id=session.center_id,
                    count=detail["count"],
                    action="ask the center to check its source, then run iplat-agent "
                    "approve-deletes",
                )

    async def _digest(self, session: Session, digest: Any) -> None:
        count = digest.bucket_count
        if not 1 <= count <= MAX_BUCKETS:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"bucket_count {count} is outside 1..{MAX_BUCKETS}",
            )
        try:
            theirs = records.unpack_digests(digest.digests, count)
        except ValueError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"reconcile digest: {exc}") from None
        ours = await self._access.read(self._store.bucket_digests, session.center_id, count)
        differing = [i for i in range(count) if ours[i] != theirs[i]]
        contents: dict[int, list[tuple[records.Key, bytes]]] = {}
        if differing:
            contents = await self._access.read(
                self._store.bucket_contents, session.center_id, count, differing
            )
        buckets = [
            pb.Bucket(
                index=i,
                entries=[
                    pb.KeyHash(key=records.key_message(k), hash=h) for k, h in contents.get(i, [])
                ],
            )
            for i in differing
        ]
        await session.send(
            pb.SyncResponse(
                reconcile_buckets=pb.ReconcileBuckets(
                    round=digest.round, buckets=buckets, buckets_compared=count
                )
            )
        )
        logs.event(
            log,
            "reconcile_digest",
            center_id=session.center_id,
            round=digest.round,
            buckets=count,
            differing=len(differing),
        )

    async def _report(self, session: Session, report: Any) -> None:
        data = {
            "round": report.round,
            "buckets_differing": report.buckets_differing,
            "upserts_queued": report.upserts_queued,
            "deletes_queued": report.deletes_queued,
        }
        await self._access.write(
            self._store.record_reconcile, session.center_id, int(self._clock()), data
        )
        logs.event(log, "reconcile_report", center_id=session.center_id, **data)

    async def _end(self, session: Session) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop(session)
        # Logged first, and the write shielded: when an agent vanishes mid-stream, gRPC
        # cancels this handler once more while it cleans up, which must skip neither.
        logs.event(
            log,
            "session_end",
            center_id=session.center_id,
            seconds=round(time.monotonic() - session.started, 3),
            batches=session.batches,
            changes=session.changes,
            reason=session.close_details or "stream ended",
        )
        current = self._sessions.get(session.center_id)
        if current is session:
            del self._sessions[session.center_id]
            # A superseded stream must not mark the center disconnected: its successor is live.
            # Staleness counts from when the agent was last heard, not from when the hub
            # noticed: a stream closed for silence must not look recently active.
            heard = session.last_heard if session.last_heard is not None else self._clock()
            await asyncio.shield(
                self._access.write(
                    self._store.record_disconnect,
                    session.center_id,
                    int(heard),
                    reason=session.close_details or "stream ended",
                )
            )


def _describe(change: Any) -> str:
    try:
        kind = codes.RECORD_KIND.code(change.key.kind)
    except ValueError:
        kind = "record"
    return f"{kind} {change.key.id[:80]!r} (seq {change.seq})"
