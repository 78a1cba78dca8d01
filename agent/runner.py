"""The agent daemon: polls sources into the local state and keeps a sync session running.

Two halves meet only in the state database and one wake-up event:

- polling: every source has an APScheduler interval job (jittered) and, for file sources,
  file-system notifications (:mod:`agent.watch`). Both only *request* a poll; one worker
  per source performs them one at a time, so a burst of saves costs one read. A poll is
  ``source.read()`` in the source's own thread, ``state.apply_snapshot``, source health,
  then a wake-up for the sender.
- syncing: :class:`agent.client.Session` runs until the stream fails; this loop reconnects
  with jittered exponential backoff, and with the longest delay after a refusal (the
  operator has to fix something; hammering the hub will not).
- routed requests: :func:`agent.inbox.inbox.run_pump` shows stored items in the inbox sink
  and picks up staff's answers every ``[inbox] poll_seconds``, connected or not; the
  session receives deliveries and sends answers through the same :class:`Inbox`.
- certificates: :class:`agent.rotation.Rotator` renews the certificate over the connected
  session's channel (scheduled, or on ``Control.renew``) and stores trust-bundle updates;
  every session loads the key, certificate and bundle afresh, so a new pair is used from
  the next connection on.

``run()`` returns after ``shutdown()`` (idempotent, callable from any thread or a signal
handler) once the session has had ``drain_seconds`` to collect outstanding acks and
everything has stopped, or after ``shutdown_timeout`` at the latest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import random
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agent import logs
from agent.client import Session, wait_event
from agent.config import AgentConfig
from agent.errors import AgentError, PkiError, RefusedError, SourceError, StateError, SyncError
from agent.inbox.inbox import Inbox, run_pump
from agent.pki import finish_interrupted_install, load_tls
from agent.rotation import Rotator
from agent.sources import build_sources
from agent.sources.base import Source
from agent.state import AgentState
from agent.status import (
    BACKOFF,
    CONNECTING,
    K_HUB,
    K_LAST_ERROR,
    K_LAST_ERROR_AT,
    K_PID,
    K_RETRY_AT,
    K_STARTED,
    K_VERSION,
    STOPPED,
    LiveStatus,
)
from agent.version import __version__
from agent.watch import DEFAULT_DEBOUNCE_SECONDS, FileWatcher

log = logging.getLogger(__name__)

# A session that got a Welcome and lasted this long was healthy: the next failure starts
# the backoff from its initial delay again.
STABLE_SESSION_SECONDS = 10.0
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


class Agent:
    """The daemon. ``await run()`` once; ``shutdown()`` from anywhere, any number of times."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        drain_seconds: float = 5.0,
        debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS,
    ) -> None:
        self.config = config
        self._shutdown_timeout = shutdown_timeout
        self._drain_seconds = min(drain_seconds, shutdown_timeout / 2)
        self._debounce = debounce_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._shutdown_requested = False
        self._ran = False
        self._state: AgentState | None = None
        self._live: LiveStatus | None = None
        self._wake: asyncio.Event | None = None
        self._poll_requests: dict[str, asyncio.Event] = {}
        self._last_problems: dict[str, tuple[int, str]] = {}
        self._session: Session | None = None
        self._inbox: Inbox | None = None
        self.rotator = Rotator(config, self._session_channel)

    @property
    def state(self) -> AgentState:
        if self._state is None:
            raise StateError("the agent is not running: its state is not open")
        return self._state

    # -- lifetime ---------------------------------------------------------------------

    def shutdown(self) -> None:
        """Ask ``run()`` to finish gracefully. Idempotent; safe from other threads."""
        self._shutdown_requested = True
        loop, stop = self._loop, self._stop
        if loop is None or stop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            stop.set()
        else:
            loop.call_soon_threadsafe(stop.set)

    async def run(self) -> None:
        if self._ran:
            raise RuntimeError("Agent.run() may be called only once; make a new Agent")
        self._ran = True
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        self._wake = asyncio.Event()
        if self._shutdown_requested:
            return
        config = self.config
        # Certificate trouble at start is fatal with a clear message; later (a certificate
        # expiring while running) it is retried, so the operator can fix it in place.
        if finish_interrupted_install(config.tls.key, config.tls.cert):
            logs.event(log, "certificate_swap_completed", cert=str(config.tls.cert))
        # An expired certificate (the center was offline past its renewal) stops the agent
        # here with the re-enrollment command: nothing else can fix it.
        tls = load_tls(config.tls, config.center_id, hub=config.hub)
        if tls.expires_soon(datetime.now(UTC)):
            logs.event(
                log,
                "certificate_expires_soon",
                logging.WARNING,
                not_after=tls.not_after.isoformat(),
                action="renewal is overdue: check that the agent reaches the hub; see "
                "renewal_failed events",
            )
        sources = build_sources(config)
        state = await asyncio.to_thread(AgentState, config.state_path, config.center_id)
        self._state = state
        self._live = live = LiveStatus(state)
        # Routed requests: shown to staff and answers picked up whether connected or not.
        self._inbox = inbox = Inbox(config, state)
        executors = {
            s.name: concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"source-{s.name}")
            for s in sources
        }
        scheduler = AsyncIOScheduler(timezone=UTC)
        watcher = FileWatcher(self._loop, self._debounce)
        tasks: list[asyncio.Task[Any]] = []
        try:
            await live.update(
                {
                    K_PID: os.getpid(),
                    K_VERSION: __version__,
                    K_STARTED: time.time(),
                    K_HUB: config.hub,
                    K_LAST_ERROR: "",
                }
            )
            await live.connection(CONNECTING)
            logs.event(
                log,
                "agent_start",
                version=__version__,
                hub=config.hub,
                sources=[s.name for s in sources],
                state=str(config.state_path),
            )
            for source in sources:
                self._poll_requests[source.name] = asyncio.Event()
                tasks.append(
                    asyncio.create_task(
                        self._poll_worker(source, executors[source.name]),
                        name=f"poll-{source.name}",
                    )
                )
                self.request_poll(source.name)
            self._schedule_polls(scheduler, sources)
            self._watch(watcher, sources)
            tasks.append(asyncio.create_task(run_pump(inbox, stop), name="inbox"))
            session_task = asyncio.create_task(self._session_loop(), name="session")
            tasks.append(session_task)
            tasks.append(asyncio.create_task(self.rotator.run(stop), name="rotation"))
            stopped = asyncio.create_task(stop.wait(), name="stop")
            tasks.append(stopped)
            await asyncio.wait({stopped, session_task}, return_when=asyncio.FIRST_COMPLETED)
            if session_task.done():
                # The loop only ends by itself through a bug: exit (non-zero, with the
                # traceback) so the service manager restarts the agent, rather than keep
                # polling without ever syncing.
                session_task.result()
            logs.event(log, "agent_stopping")
            # The session drains on its own once stop is set; polls are simply abandoned
            # (a snapshot is one transaction: applied whole or not at all).
            done, _ = await asyncio.wait({session_task}, timeout=self._shutdown_timeout)
            if session_task in done and not session_task.cancelled():
                session_task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if scheduler.running:
                scheduler.shutdown(wait=False)
            await asyncio.to_thread(watcher.stop)
            for executor in executors.values():
                executor.shutdown(wait=False, cancel_futures=True)
            for source in sources:
                source.close()
            await live.connection(STOPPED)
            await asyncio.to_thread(inbox.close)
            await asyncio.to_thread(state.close)
            logs.event(log, "agent_stopped")

    # -- polling ----------------------------------------------------------------------

    def request_poll(self, name: str) -> None:
        """Ask for a read of source ``name`` soon (coalesced with one already asked for)."""
        event = self._poll_requests.get(name)
        if event is not None:
            event.set()

    async def _poll_job(self, name: str) -> None:
        # A coroutine so AsyncIOScheduler runs it in the loop, not in a worker thread.
        self.request_poll(name)

    def _schedule_polls(self, scheduler: AsyncIOScheduler, sources: list[Source]) -> None:
        by_name = {s.name: s for s in self.config.sources}
        for source in sources:
            cfg = by_name.get(source.name)
            seconds = cfg.poll_seconds if cfg is not None else self.config.sync.poll_seconds
            scheduler.add_job(
                self._poll_job,
                IntervalTrigger(seconds=seconds, jitter=max(1, seconds // 10)),
                args=[source.name],
                id=f"poll-{source.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=seconds,
            )
        scheduler.start()

    def _watch(self, watcher: FileWatcher, sources: list[Source]) -> None:
        by_name = {s.name: s for s in self.config.sources}
        for source in sources:
            cfg = by_name.get(source.name)
            if cfg is None or not cfg.watch:
                continue
            paths = source.watch_paths()
            if paths:
                watcher.add(source.name, paths, functools.partial(self.request_poll, source.name))
        watcher.start()

    async def _poll_worker(self, source: Source, executor: concurrent.futures.Executor) -> None:
        request = self._poll_requests[source.name]
        while True:
            await request.wait()
            request.clear()
            try:
                await self._poll(source, executor)
            except StateError as exc:
                logs.event(
                    log, "poll_state_error", logging.ERROR, source=source.name, error=str(exc)
                )
            except Exception as exc:
                # A bug in one source's parser must not stop the others or the sync: it is
                # logged with its traceback and shown as the source's health, then the next
                # poll tries again.
                logs.event(log, "poll_failed", logging.ERROR, exc_info=True, source=source.name)
                await self._record_failure(source.name, f"internal error: {exc!r}", time.time())

    async def _poll(self, source: Source, executor: concurrent.futures.Executor) -> None:
        assert self._loop is not None and self._wake is not None
        state, name, started = self.state, source.name, time.time()
        try:
            snapshot = await self._loop.run_in_executor(executor, source.read)
        except SourceError as exc:
            logs.event(
                log,
                "source_unreadable",
                logging.WARNING,
                source=name,
                error=str(exc),
                action="keeping the last good records until the source can be read again",
            )
            await self._record_failure(name, str(exc), started)
            return
        items = [*snapshot.equipment, *snapshot.entries]
        result = await asyncio.to_thread(
            functools.partial(
                state.apply_snapshot,
                name,
                items,
                max_delete_share=self.config.sync.max_delete_share,
            )
        )
        changed = result.upserts or result.deletes
        if changed:
            # Wake the sender before the bookkeeping below: it is on the change-to-visible path.
            self._wake.set()
        problems = [str(p) for p in snapshot.problems] + list(result.conflicts)
        await asyncio.to_thread(
            functools.partial(
                state.set_source_health,
                name,
                ok=True,
                records=len(items),
                problems=len(problems),
                first_problem=problems[0] if problems else "",
                at=started,
            )
        )
        if result.held:
            logs.event(
                log,
                "snapshot_held",
                logging.ERROR,
                source=name,
                held_deletes=result.held_deletes,
                action=(
                    f"source {name!r} would delete {result.held_deletes} records, more than "
                    f"max_delete_share allows; nothing of it was published. Check the source; "
                    f"if it is right run: iplat-agent approve-deletes --config {self.config.path}"
                ),
            )
        summary = (len(problems), problems[0] if problems else "")
        if problems and summary != self._last_problems.get(name):
            logs.event(
                log,
                "source_problems",
                logging.WARNING,
                source=name,
                problems=len(problems),
                first_problem=problems[0],
                action="fix these rows in the source; they are left out until then",
            )
        self._last_problems[name] = summary
        logs.event(
            log,
            "poll",
            logging.INFO if changed else logging.DEBUG,
            source=name,
            records=len(items),
            upserts=result.upserts,
            deletes=result.deletes,
            unchanged=result.unchanged,
            seconds=round(time.time() - started, 3),
        )

    async def _record_failure(self, name: str, error: str, at: float) -> None:
        state = self.state
        previous = {row["name"]: row for row in await asyncio.to_thread(state.source_health)}
        records = previous[name]["records"] if name in previous else 0
        await asyncio.to_thread(
            functools.partial(
                state.set_source_health,
                name,
                ok=False,
                records=records,
                problems=1,
                first_problem=error,
                at=at,
            )
        )

    # -- syncing ----------------------------------------------------------------------

    def _session_channel(self) -> Any:
        """The connected session's channel (for renewals), or None."""
        session = self._session
        return session.channel if session is not None and session.welcomed else None

    async def _session_loop(self) -> None:
        assert self._stop is not None and self._wake is not None and self._live is not None
        stop, live, sync = self._stop, self._live, self.config.sync
        delay = sync.backoff_initial_seconds
        while not stop.is_set():
            await live.connection(CONNECTING)
            started = time.monotonic()
            session: Session | None = None
            renewals = self.rotator.renewals
            try:
                tls = await asyncio.to_thread(
                    functools.partial(
                        load_tls, self.config.tls, self.config.center_id, hub=self.config.hub
                    )
                )
                session = self._session = Session(
                    self.config,
                    self.state,
                    tls,
                    self._wake,
                    live,
                    drain_seconds=self._drain_seconds,
                    certificates=self.rotator,
                    inbox=self._inbox,
                )
                await session.run(stop)
                return
            except RefusedError as exc:
                error: AgentError = exc
                wait, level, code = sync.backoff_max_seconds, logging.ERROR, exc.code
                if self.rotator.renewals != renewals:
                    # The refusal concerned the certificate this stream was opened with (e.g.
                    # its CA was retired); a new one was installed meanwhile: try it now.
                    wait, level = sync.backoff_initial_seconds, logging.WARNING
            except SyncError as exc:
                error, wait, level, code = exc, delay, logging.WARNING, exc.code
            except (PkiError, StateError) as exc:
                error, wait, level = exc, sync.backoff_max_seconds, logging.ERROR
                code = type(exc).__name__
            lasted = time.monotonic() - started
            if session is not None and session.welcomed and lasted >= STABLE_SESSION_SECONDS:
                delay = sync.backoff_initial_seconds
                wait = min(wait, delay)
            else:
                delay = min(delay * 2, sync.backoff_max_seconds)
            # "Equal jitter": never below half the delay (no hot loop), spread above it.
            pause = random.uniform(wait / 2, wait)
            now = time.time()
            await live.connection(
                BACKOFF,
                **{K_LAST_ERROR: str(error), K_LAST_ERROR_AT: now, K_RETRY_AT: now + pause},
            )
            logs.event(
                log,
                "session_failed",
                level,
                code=code,
                error=str(error),
                session_seconds=round(lasted, 3),
                retry_in=round(pause, 3),
            )
            await wait_event(stop, pause)
