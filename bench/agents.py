"""Simulated centers: the agent's real parts, driven by the bench instead of the daemon.

Each :class:`SimAgent` is one center's agent directory (agent.toml from ``iplat-agent
init``'s template, key and certificate from the hub's CA, the two default CSV sources),
its real ``AgentState`` and CSV sources, and an ``agent.client.Session`` on a real mTLS
stream. What the daemon (``agent.runner``) adds around them, APScheduler polls and file
notifications, is replaced by the bench calling :meth:`SimAgent.poll`, which does what
``Agent._poll`` does: read the source, ``apply_snapshot``, record source health, wake the
sender.

The session itself is the agent's, with bench hooks only (:class:`BenchSession`): it notes
when each Ack *arrives* (before the agent's own bookkeeping; the hub sends an Ack only
after its transaction committed, so arrival is an upper bound on when the change became
visible at the hub), when the Welcome and each batch went, and it can hold the sender.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.client import Session
from agent.config import AgentConfig, load_config
from agent.pki import TlsMaterial, load_tls
from agent.sources import Source, build_sources, fields
from agent.state import AgentState
from agent.status import LiveStatus
from agent.templates import CALENDAR_CSV_NAME, EQUIPMENT_CSV_NAME, default_config_text
from bench.workload import CenterData
from hub import pki
from proto import identity

AckHook = Callable[[int, float], None]


class BenchSession(Session):
    """``agent.client.Session`` with two bench hooks.

    - Each Ack's arrival time goes to ``on_ack`` before the agent's own bookkeeping.
    - A gate in front of the sender's outbox reads: while it is shut, the sender cannot
      pick up new changes, so the bench can connect every session for a round and then
      open all gates at once (the round's clock starts there).
    - The times of the Welcome and of the last batch sent.
    """

    def __init__(self, *args: Any, on_ack: AckHook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bench_on_ack = on_ack
        self.welcomed_at = 0.0
        self.last_batch_sent_at = 0.0
        self.gate = asyncio.Event()
        self.gate.set()

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        if fn != self._checked_pending:
            return await super()._db(fn, *args)
        await self.gate.wait()
        return await super()._db(fn, *args)

    async def _send(self, request: Any) -> None:
        if request.WhichOneof("msg") == "batch":
            self.last_batch_sent_at = time.perf_counter()
        await super()._send(request)

    async def _handshake(self) -> None:
        await super()._handshake()
        self.welcomed_at = time.perf_counter()

    async def _on_ack(self, ack: Any) -> None:
        self._bench_on_ack(int(ack.high_water_mark), time.perf_counter())
        await super()._on_ack(ack)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, object]]) -> None:
    """Write the file the way editors do: a temporary file renamed over the original."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


class SimAgent:
    def __init__(
        self,
        data: CenterData,
        directory: Path,
        ca: pki.CertificateAuthority,
        bundle_pem: bytes,
        trust_domain: str,
        hub_address: str,
    ) -> None:
        self.data = data
        self.center_id = data.center_id
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        kc = ca.issue_key_and_cert(identity.make(trust_domain, "center", self.center_id))
        pki.write_atomic(directory / "agent.key", kc.key_pem, private=True)
        pki.write_atomic(directory / "agent.crt", kc.cert_pem)
        pki.write_atomic(directory / "ca.pem", bundle_pem)
        (directory / "agent.toml").write_text(
            default_config_text(self.center_id, hub_address), encoding="utf-8"
        )
        self.write_sources()
        self.config: AgentConfig = load_config(directory / "agent.toml")
        self.tls: TlsMaterial = load_tls(self.config.tls, self.center_id)
        self.sources: dict[str, Source] = {s.name: s for s in build_sources(self.config)}
        self.state = AgentState(self.config.state_path, self.center_id)
        self.live = LiveStatus(self.state)
        self.wake = asyncio.Event()
        self.acked = 0
        self.session: BenchSession | None = None
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[float]]] = []

    # -- the center's side: sources into the outbox ---------------------------------------

    def write_sources(self) -> None:
        write_csv(
            self.dir / EQUIPMENT_CSV_NAME, fields.EQUIPMENT_COLUMNS, self.data.equipment_rows()
        )
        self.write_calendar()

    def write_calendar(self) -> None:
        write_csv(self.dir / CALENDAR_CSV_NAME, fields.CALENDAR_COLUMNS, self.data.calendar_rows())

    def poll(self, name: str) -> float:
        """One read of source ``name`` into the outbox, as ``agent.runner`` does it.

        Blocking (run it in a thread). Returns when the snapshot's changes were committed
        to the outbox (``time.perf_counter``); the caller then wakes the sender.
        """
        source = self.sources[name]
        snapshot = source.read()
        if snapshot.problems:
            raise RuntimeError(f"{self.center_id}: source {name}: {snapshot.problems[0]}")
        items = [*snapshot.equipment, *snapshot.entries]
        result = self.state.apply_snapshot(
            name, items, max_delete_share=self.config.sync.max_delete_share
        )
        committed = time.perf_counter()
        if result.held or result.conflicts:
            raise RuntimeError(f"{self.center_id}: source {name} held or conflicting: {result}")
        self.state.set_source_health(
            name, ok=True, records=len(items), problems=0, first_problem="", at=time.time()
        )
        return committed

    def poll_all(self) -> float:
        for name in self.sources:
            committed = self.poll(name)
        return committed

    def last_assigned(self) -> int:
        return self.state.last_assigned_seq()

    # -- the sync side -----------------------------------------------------------------

    def start(self, address: str, *, gate_open: bool = True) -> None:
        """Open a session to ``address`` (the hub, or the counting proxy in front of it)."""
        config = replace(self.config, hub=address)
        self.session = BenchSession(
            config, self.state, self.tls, self.wake, self.live, on_ack=self._on_ack
        )
        if not gate_open:
            self.session.gate.clear()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            self.session.run(self.stop), name=f"session-{self.center_id}"
        )

    def _on_ack(self, hwm: int, at: float) -> None:
        self.acked = max(self.acked, hwm)
        keep = []
        for seq, fut in self._waiters:
            if seq <= hwm:
                if not fut.done():
                    fut.set_result(at)
            else:
                keep.append((seq, fut))
        self._waiters = keep

    def acked_through(self, seq: int) -> asyncio.Future[float]:
        """Resolves with the arrival time of the first Ack covering ``seq``."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.acked >= seq:
            fut.set_result(time.perf_counter())
        else:
            self._waiters.append((seq, fut))
        return fut

    def open_gate(self) -> None:
        if self.session is not None:
            self.session.gate.set()
        self.wake.set()

    def close(self) -> None:
        for source in self.sources.values():
            source.close()
        self.state.close()
