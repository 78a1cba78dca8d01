"""The sync benchmark: N simulated centers syncing to a real hub process over mTLS gRPC.

Topology: ``python -m hub serve`` in its own process; N ``agent.client.Session`` streams in
this process's one asyncio loop (see bench/agents.py); for the 1% round a byte-counting
proxy process between them. Phases:

1. read + diff: every center's two CSV sources are read and diffed into its outbox
   (``AgentState.apply_snapshot``), as the agent's first poll does. Timed on its own.
2. initial sync (agents dial the hub directly): from starting all sessions (mTLS
   handshakes included) until every center's last change is acknowledged. The hub sends
   an Ack only after its transaction committed.
3. change-to-visible latency (direct): single-record changes, one at a time, rotating
   over the centers: from the outbox commit to the arrival of the Ack that covers it.
4. 1% round: a share of every center's records changes in the CSVs; read + diff is timed
   on its own while no session is open; the sessions reconnect through the proxy with
   their senders held (see ``BenchSession``), then all are released together and the
   round lasts until every change is acknowledged. The proxy counts the bytes of exactly
   that interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from agent import client
from bench.agents import SimAgent
from bench.hubproc import REPO, HubProcess, init_hub
from bench.proxy import Counts, ProxyProcess
from bench.trace import CpuTrace
from bench.workload import CenterData, center_id, split
from hub import pki
from hub.store import engine as store_engine
from hub.store.schema import center_sync, entries, equipment

ACK_TIMEOUT_SECONDS = 300.0
# After the round's sessions connect: the hub records each Hello and first heartbeat.
SETTLE_SECONDS = 0.5
Log = Callable[[str], None]


@dataclass
class Phase:
    seconds: float
    hub_cpu: float
    bench_cpu: float
    wire: Counts | None = None


@dataclass
class SyncResult:
    store: str
    centers: int
    records_per_center: int
    read_diff: Phase
    connect_seconds: float
    initial: Phase
    round_changes: int
    round_read_diff: Phase
    round: Phase
    latencies_ms: list[float] = field(default_factory=list)
    hub_rows: int = 0

    @property
    def records(self) -> int:
        return self.centers * self.records_per_center


@contextlib.contextmanager
def _no_idle_recheck() -> Iterator[None]:
    """Disable the sender's 1 s idle re-check of the outbox for the run.

    The re-check exists for outbox writes by other processes (``approve-deletes``); here it
    would only add timer wake-ups. Senders still wake at once through their event, as after
    every poll in the daemon.
    """
    saved = client.IDLE_RECHECK_SECONDS
    client.IDLE_RECHECK_SECONDS = 3600.0
    try:
        yield
    finally:
        client.IDLE_RECHECK_SECONDS = saved


class _Clock:
    """Wall time plus the CPU time of the hub process and of this (agents') process."""

    def __init__(self, hub: HubProcess) -> None:
        self._hub = hub
        self.start = time.perf_counter()
        self._hub0 = hub.cpu_seconds()
        self._cpu0 = time.process_time()

    def phase(self, end: float | None = None, wire: Counts | None = None) -> Phase:
        return Phase(
            seconds=(end or time.perf_counter()) - self.start,
            hub_cpu=self._hub.cpu_seconds() - self._hub0,
            bench_cpu=time.process_time() - self._cpu0,
            wire=wire,
        )


async def _acks(agents: list[SimAgent], targets: list[int]) -> list[float]:
    """Wait until every agent's target seq is acknowledged; the Acks' arrival times."""
    futures = [a.acked_through(t) for a, t in zip(agents, targets, strict=True)]
    all_acked = asyncio.gather(*futures)
    sessions = [a.task for a in agents if a.task is not None]
    # A session task ends only on failure (or stop): report it instead of waiting forever.
    failed = asyncio.ensure_future(asyncio.wait(sessions, return_when=asyncio.FIRST_COMPLETED))
    try:
        done, _ = await asyncio.wait(
            {all_acked, failed}, timeout=ACK_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        failed.cancel()
    if all_acked in done:
        return list(all_acked.result())
    all_acked.cancel()
    for task in sessions:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError(f"{task.get_name()} failed: {task.exception()}")
    raise RuntimeError(f"changes not acknowledged within {ACK_TIMEOUT_SECONDS:.0f}s")


async def _stop_sessions(agents: list[SimAgent]) -> None:
    for a in agents:
        a.stop.set()
    tasks = [a.task for a in agents if a.task is not None]
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    for a in agents:
        task = a.task
        if task is not None and task.done() and not task.cancelled() and task.exception():
            raise RuntimeError(f"{a.center_id}: session failed: {task.exception()}")
        a.task = None


async def _welcomed(agents: list[SimAgent], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(a.session is not None and a.session.welcomed_at for a in agents):
        if time.monotonic() > deadline:
            raise RuntimeError("sessions were not welcomed by the hub")
        await asyncio.sleep(0.01)


async def _poll_all(agents: list[SimAgent]) -> None:
    await asyncio.gather(*(asyncio.to_thread(a.poll_all) for a in agents))


def _hub_rows(db_url: str, center_ids: list[str]) -> tuple[int, int]:
    """(stored equipment + entries, centers whose hwm is set): checked after the sync."""
    sa = store_engine.create(store_engine.parse_url(db_url))
    try:
        with sa.connect() as conn:
            n = sum(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (equipment, entries)
            )
            synced = conn.execute(
                select(func.count()).where(
                    center_sync.c.center_id.in_(center_ids), center_sync.c.hwm > 0
                )
            ).scalar_one()
    finally:
        sa.dispose()
    return int(n), int(synced)


def _change_round(data: CenterData, round_no: int, changes: int) -> None:
    """Change ``changes`` records of a center: 10% equipment, the rest calendar entries."""
    eq_changes = max(1, changes // 10)
    step = 7 + round_no  # spread the changed records over the whole table
    for j in range(eq_changes):
        data.change_equipment(j * step + round_no)
    for j in range(changes - eq_changes):
        data.change_entry(j * step * 3 + round_no)


async def run(
    store: str,
    db_url: str,
    work: Path,
    *,
    centers: int,
    records: int,
    latency_samples: int,
    log: Log = print,
) -> SyncResult:
    eq_count, en_count = split(records)
    cfg = init_hub(work / "hub", db_url, [center_id(i) for i in range(centers)])
    hub = HubProcess(work / "hub")
    proxy: ProxyProcess | None = None
    agents: list[SimAgent] = []
    try:
        proxy = ProxyProcess(hub.address, REPO)
        ca = pki.load_ca(cfg.pki_paths)
        bundle = cfg.pki_paths.bundle.read_bytes()
        for i in range(centers):
            data = CenterData(i, eq_count, en_count)
            directory = work / "agents" / data.center_id
            agents.append(SimAgent(data, directory, ca, bundle, cfg.trust_domain, hub.address))
        with _no_idle_recheck():
            return await _Phases(store, db_url, hub, proxy, agents, records, log).run(
                latency_samples
            )
    finally:
        tasks = [a.task for a in agents if a.task is not None]
        for a in agents:
            a.stop.set()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for a in agents:
            a.close()
        if proxy is not None:
            proxy.stop()
        hub.stop()


class _Phases:
    def __init__(
        self,
        store: str,
        db_url: str,
        hub: HubProcess,
        proxy: ProxyProcess,
        agents: list[SimAgent],
        records: int,
        log: Log,
    ) -> None:
        self.store, self.db_url, self.hub, self.proxy = store, db_url, hub, proxy
        self.agents, self.records, self.log = agents, records, log

    async def run(self, latency_samples: int) -> SyncResult:
        agents, n = self.agents, len(self.agents)
        read_diff = await self.read_diff()
        initial, connect = await self.initial_sync()
        stored, synced = _hub_rows(self.db_url, [a.center_id for a in agents])
        if stored != n * self.records or synced != n:
            raise RuntimeError(f"hub holds {stored} records of {synced} centers after the sync")
        latencies = await self.latency(latency_samples)
        changes = max(1, self.records // 100)
        round_read_diff, round_phase = await self.round(changes)
        return SyncResult(
            store=self.store,
            centers=n,
            records_per_center=self.records,
            read_diff=read_diff,
            connect_seconds=connect,
            initial=initial,
            round_changes=changes * n,
            round_read_diff=round_read_diff,
            round=round_phase,
            latencies_ms=latencies,
            hub_rows=stored,
        )

    async def read_diff(self) -> Phase:
        """Phase 1: every center's first snapshot into its outbox."""
        clock = _Clock(self.hub)
        await _poll_all(self.agents)
        phase = clock.phase()
        queued = sum(a.last_assigned() for a in self.agents)
        if queued != len(self.agents) * self.records:
            raise RuntimeError(f"outboxes hold {queued} changes")
        self.log(f"  read+diff {queued:,} records: {phase.seconds:.2f}s")
        return phase

    async def initial_sync(self) -> tuple[Phase, float]:
        """Phase 2: all sessions start at once, straight to the hub."""
        agents = self.agents
        targets = [a.last_assigned() for a in agents]
        trace = CpuTrace({"hub": self.hub.process.pid, "agents": os.getpid()})
        profile = os.environ.get("IPLAT_BENCH_PROFILE")  # FILE: cProfile of this event loop
        profiler = cProfile.Profile() if profile else None
        with (
            trace if CpuTrace.enabled() else contextlib.nullcontext(),
            profiler if profiler is not None else contextlib.nullcontext(),
        ):
            clock = _Clock(self.hub)
            for a in agents:
                a.start(self.hub.address)
            phase = clock.phase(max(await _acks(agents, targets)))
        if CpuTrace.enabled():
            self.log(trace.render())
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        welcomed = max(a.session.welcomed_at for a in agents if a.session is not None)
        self.log(f"  initial sync: {phase.seconds:.2f}s")
        return phase, welcomed - clock.start

    async def latency(self, samples: int) -> list[float]:
        """Phase 3: one change at a time, rotating over the centers."""
        agents, n = self.agents, len(self.agents)
        latencies: list[float] = []
        parts: list[tuple[float, float, float]] = []
        for k in range(samples):
            a = agents[k % n]
            a.data.change_entry(k // n * 13 + 5)

            def change(a: SimAgent = a) -> tuple[float, int]:
                a.write_calendar()
                committed = a.poll("calendar")
                return committed, a.last_assigned()

            committed, seq = await asyncio.to_thread(change)
            woken = time.perf_counter()
            a.wake.set()
            arrived = await asyncio.wait_for(a.acked_through(seq), ACK_TIMEOUT_SECONDS)
            latencies.append((arrived - committed) * 1000)
            sent = a.session.last_batch_sent_at if a.session is not None else woken
            parts.append(
                ((woken - committed) * 1000, (sent - woken) * 1000, (arrived - sent) * 1000)
            )
        self.log(f"  latency: {samples} samples, median {statistics.median(latencies):.2f} ms")
        if CpuTrace.enabled():
            medians = [statistics.median(p[i] for p in parts) for i in range(3)]
            self.log(
                "  latency medians: outbox commit -> sender woken {:.2f} ms, -> batch sent "
                "{:.2f} ms, -> Ack arrived {:.2f} ms".format(*medians)
            )
        return latencies

    async def round(self, changes: int) -> tuple[Phase, Phase]:
        """Phase 4: change ``changes`` records per center, sync them through the proxy.

        The outboxes are filled while no session is open; the sessions then connect with
        their senders held, and once every Welcome (and the first heartbeats that follow
        it) is through, all senders are released at once: the round's clock starts there.
        """
        agents = self.agents
        await _stop_sessions(agents)
        for a in agents:
            _change_round(a.data, 1, changes)
            a.write_sources()
        clock = _Clock(self.hub)
        await _poll_all(agents)
        read_diff = clock.phase()
        for a in agents:
            a.start(self.proxy.address, gate_open=False)
        await _welcomed(agents)
        await asyncio.sleep(SETTLE_SECONDS)
        targets = [a.last_assigned() for a in agents]
        wire0 = self.proxy.counts()
        trace = CpuTrace(
            {"hub": self.hub.process.pid, "agents": os.getpid(), "proxy": self.proxy.pid},
            interval=0.02,
        )
        with trace if CpuTrace.enabled() else contextlib.nullcontext():
            clock = _Clock(self.hub)
            for a in agents:
                a.open_gate()
            acks = sorted(await _acks(agents, targets))
            phase = clock.phase(acks[-1], self.proxy.counts() - wire0)
        if CpuTrace.enabled():
            self.log(trace.render())
            at = [
                f"{(acks[int(q * (len(acks) - 1))] - clock.start) * 1000:.0f}" for q in (0, 0.5, 1)
            ]
            self.log(f"  1% round: Acks after {' / '.join(at)} ms (first / median / last)")
        assert phase.wire is not None
        self.log(f"  1% round: {phase.seconds * 1000:.0f} ms, {phase.wire.total:,} bytes")
        return read_diff, phase
