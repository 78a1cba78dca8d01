"""Digest reconciliation on one sync session (DESIGN.md section 5, invariant 7).

The session's reconciler task sends a ReconcileDigest every ``reconcile_seconds`` (or at
once when the hub asks, or when the handshake found the hub's copy diverged), only when
nothing is pending, so the hub compares committed data with ours. The hub answers with
ReconcileBuckets for every bucket that differs; we queue what makes them equal and report.

:meth:`Reconciler.align` squares our seqs with the Welcome's high-water mark first: a hub
ahead of us, or behind what it once acknowledged, means one side lost data, and a
reconciliation (not a bulk resend) finds exactly what differs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agent import logs
from agent.channel import Message, Settings, jittered, wait_event
from agent.errors import SyncError
from agent.state import AgentState
from agent.status import K_HUB_BOUND, K_LAST_RECONCILE, LiveStatus
from proto import limits, pb, records

log = logging.getLogger(__name__)

# A reconcile round the hub never answered stops blocking new rounds after this long.
ROUND_TIMEOUT_SECONDS = 120.0


class Reconciler:
    """The reconciliation half of a :class:`agent.client.Session` (one per stream)."""

    def __init__(
        self,
        state: AgentState,
        live: LiveStatus,
        send: Callable[[Message], Awaitable[None]],
        db: Callable[..., Awaitable[Any]],
        settings: Callable[[], Settings],
        inflight: Callable[[], int],
        stopping: Callable[[], bool],
        wake: asyncio.Event,
    ) -> None:
        self._state = state
        self._live = live
        self._send = send
        self._db = db
        self._settings = settings
        self._inflight = inflight
        self._stopping = stopping
        self._wake = wake
        self.due = False
        """Reconcile as soon as the outbox is empty (hub asked, or the handshake diverged)."""
        self.kick = asyncio.Event()
        self._round = 0
        self._round_open_since: float | None = None

    def request(self) -> None:
        self.due = True
        self.kick.set()

    async def align(self, hwm: int, last_acked: int, last_assigned: int) -> tuple[int, int]:
        """Welcome said the hub committed up to ``hwm``: square our seqs with it.

        Returns (changes dropped as acknowledged, last assigned seq afterwards); sets ``due``
        when the hub's copy and ours may differ (lost state on either side).
        """
        bound = await self._db(self._state.get_meta, K_HUB_BOUND)
        if not bound and hwm > 0 and hwm <= last_assigned:
            # A state file that never talked to this hub (reinstalled agent, lost state)
            # can have numbered its changes below a hwm left by a previous life: those
            # seqs are not ours, so acknowledging by them would drop unsent changes.
            renumbered = await self._db(self._state.ensure_seq_above, hwm)
            last_assigned = await self._db(self._state.last_assigned_seq)
            self.due = True
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
            renumbered = await self._db(self._state.ensure_seq_above, hwm)
            self.due = True
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
            self.due = True
            logs.event(
                log,
                "hub_lost_data",
                logging.WARNING,
                hub_hwm=hwm,
                last_acked_seq=last_acked,
                action="the hub was probably restored from a backup; reconciling now",
            )
        dropped = await self._db(self._state.ack, hwm)
        if not bound:
            await self._db(self._state.set_meta, K_HUB_BOUND, "1")
        return int(dropped), int(last_assigned)

    async def run(self, recheck_seconds: float) -> None:
        next_at = time.monotonic() + jittered(self._settings().reconcile_seconds)
        while True:
            due = self.due or time.monotonic() >= next_at
            round_open = (
                self._round_open_since is not None
                and time.monotonic() - self._round_open_since < ROUND_TIMEOUT_SECONDS
            )
            if due and not round_open and not self._stopping() and await self._outbox_empty():
                await self._send_digest()
                next_at = time.monotonic() + jittered(self._settings().reconcile_seconds)
            self.kick.clear()
            wait = max(0.05, min(recheck_seconds, next_at - time.monotonic()))
            await wait_event(self.kick, wait)

    async def _outbox_empty(self) -> bool:
        # Only compare once the hub committed all we have: otherwise every change still in
        # the outbox would show up as a difference and be queued twice.
        return not self._inflight() and await self._db(self._state.backlog) == 0

    async def _send_digest(self) -> None:
        seq, digests = await self._db(self._state.digests_as_of, limits.RECONCILE_BUCKETS)
        self._round += 1
        self._round_open_since = time.monotonic()
        self.due = False
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

    async def on_buckets(self, msg: Message) -> None:
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
