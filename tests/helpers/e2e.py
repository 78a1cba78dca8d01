"""Shared pieces of the end-to-end fault tests (tests/e2e).

- :class:`Sources`: a center's equipment and calendar as CSV rows, built from a seeded
  random generator, mutated, written into an agent dir, and turned into what the hub's
  national view must show for them.
- :func:`hub_mismatch` / :func:`assert_hub_equals`: the hub's ``iplat-hub view --json``
  compared with the sources entry by entry, plus the raw row counts of the center's tables
  (the view hides entries of unknown equipment; the counts do not).
- :class:`HubDb`: cheap SQL probes of the hub's database (hwm while a sync runs) and the
  direct edits anti-entropy must repair.
- :class:`Procs`: every hub and agent process a test starts, SIGKILLed at teardown.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from proto import timeconv
from tests.helpers import hubenv
from tests.helpers.agentenv import AgentDir, AgentProcess, calendar_row, equipment_row, start_agent
from tests.helpers.hubenv import RunningHub
from tests.helpers.tcpproxy import TcpProxy
from tests.helpers.wait import eventually

# One seed for every randomised choice (data, kill points, cut times); override it to
# reproduce or vary a run: IPLAT_E2E_SEED=123 pytest tests/e2e
SEED = int(os.environ.get("IPLAT_E2E_SEED", "20261127"))

STATUSES = ("available", "limited", "maintenance", "out-of-service", "retired")
KINDS = ("booked", "tentative", "maintenance", "closure")
# 2026-03-02T00:00:00Z: bookings are spread over the following weeks, whole seconds only.
BASE_EPOCH = 1_772_409_600


def rng_for(name: str) -> random.Random:
    """A generator of its own per test and purpose, all derived from ``SEED``."""
    return random.Random(f"{SEED}:{name}")


# -- sources ------------------------------------------------------------------------------


@dataclass
class Sources:
    """A center's source data: equipment rows and calendar rows, by id."""

    equipment: dict[str, dict[str, object]] = field(default_factory=dict)
    entries: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.equipment) + len(self.entries)

    def copy(self) -> Sources:
        return Sources(
            {k: dict(v) for k, v in self.equipment.items()},
            {k: dict(v) for k, v in self.entries.items()},
        )

    def write(self, ad: AgentDir) -> None:
        ad.write_equipment(list(self.equipment.values()))
        ad.write_calendar(list(self.entries.values()))

    def expected(self) -> dict[str, Any]:
        """What the national view must show: {eq id: (names, category, status, {entries})}."""
        out: dict[str, Any] = {
            eq_id: (row["name_ko"], row["name_en"], row["category"], row["status"], {})
            for eq_id, row in self.equipment.items()
        }
        for entry_id, row in self.entries.items():
            eq = out.get(str(row["equipment_id"]))
            if eq is not None:  # the view shows busy time of known equipment only
                eq[4][entry_id] = (row["start"], row["end"], row["kind"])
        return out


def _booking(rng: random.Random) -> tuple[str, str]:
    start = BASE_EPOCH + rng.randrange(0, 60 * 24) * 3600
    end = start + rng.randrange(1, 12) * 3600
    iso_start, iso_end = timeconv.iso(start), timeconv.iso(end)
    assert iso_start is not None and iso_end is not None
    return iso_start, iso_end


def _equipment(eq_id: str, tag: str, rng: random.Random) -> dict[str, object]:
    return equipment_row(
        eq_id,
        name_ko=f"장비 {eq_id} {tag}",
        name_en=f"Equipment {eq_id} {tag}",
        status=rng.choice(STATUSES),
    )


def _entry(entry_id: str, eq_ids: list[str], rng: random.Random) -> dict[str, object]:
    start, end = _booking(rng)
    return calendar_row(entry_id, rng.choice(eq_ids), start, end, rng.choice(KINDS))


def make_sources(
    rng: random.Random, equipment: int, entries: int, *, prefix: str = "", tag: str = "v0"
) -> Sources:
    """``equipment`` pieces and ``entries`` bookings spread over them."""
    src = Sources()
    eq_ids = [f"{prefix}EQ-{i:05d}" for i in range(equipment)]
    for eq_id in eq_ids:
        src.equipment[eq_id] = _equipment(eq_id, tag, rng)
    for i in range(entries):
        entry_id = f"{prefix}BK-{i:06d}"
        src.entries[entry_id] = _entry(entry_id, eq_ids, rng)
    return src


def mutate(
    src: Sources,
    rng: random.Random,
    *,
    changes: int = 0,
    deletes: int = 0,
    adds: int = 0,
    tag: str = "v1",
) -> Sources:
    """A copy with ``changes`` records edited, ``deletes`` entries removed and ``adds``
    new equipment (each with one booking) added."""
    out = src.copy()
    eq_ids = sorted(out.equipment)
    keys = [("eq", k) for k in eq_ids] + [("en", k) for k in sorted(out.entries)]
    for kind, key in rng.sample(keys, changes):
        if kind == "eq":
            out.equipment[key] = _equipment(key, tag, rng)
        else:
            start, end = _booking(rng)
            out.entries[key] = {**out.entries[key], "start": start, "end": end}
    for key in rng.sample(sorted(out.entries), deletes):
        del out.entries[key]
    for n in range(adds):
        eq_id = f"NEW-{tag}-{n:04d}"
        out.equipment[eq_id] = _equipment(eq_id, tag, rng)
        entry_id = f"NEWBK-{tag}-{n:04d}"
        out.entries[entry_id] = _entry(entry_id, [eq_id], rng)
    return out


# -- what the hub has ---------------------------------------------------------------------


def hub_view(data_dir: Path, center_id: str) -> dict[str, Any]:
    """The center's part of ``iplat-hub view --json`` (read from the hub's database)."""
    code, out = hubenv.run_cli("view", "--json", "--center", center_id, "--data-dir", str(data_dir))
    assert code == 0, out
    [center] = json.loads(out)["centers"]
    result: dict[str, Any] = center
    return result


def _view_records(center: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for eq in center["equipment"]:
        assert eq["id"] not in out, f"equipment {eq['id']} twice in the view"
        entries = {en["id"]: (en["start"], en["end"], en["kind"]) for en in eq["entries"]}
        assert len(entries) == len(eq["entries"]), f"an entry of {eq['id']} twice in the view"
        out[eq["id"]] = (eq["name_ko"], eq["name_en"], eq["category"], eq["status"], entries)
    return out


def _describe(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str:
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    wrong = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    parts = [f"{len(actual)} equipment on the hub, {len(expected)} in the sources"]
    if missing:
        parts.append(f"missing {len(missing)}: {missing[:3]}")
    if extra:
        parts.append(f"extra {len(extra)}: {extra[:3]}")
    if wrong:
        k = wrong[0]
        parts.append(
            f"{len(wrong)} differ, e.g. {k}: hub {actual[k]!r:.300} != {expected[k]!r:.300}"
        )
    return "; ".join(parts)


def hub_mismatch(data_dir: Path, center_id: str, src: Sources, db: HubDb | None = None) -> str:
    """'' if the hub's copy of the center equals ``src`` exactly, else what differs."""
    expected = src.expected()
    actual = _view_records(hub_view(data_dir, center_id))
    if actual != expected:
        return _describe(expected, actual)
    if db is not None:
        counts = db.counts(center_id)
        want = (len(src.equipment), len(src.entries))
        if counts != want:
            return f"hub tables hold (equipment, entries) = {counts}, the sources {want}"
    return ""


def assert_hub_equals(
    data_dir: Path, center_id: str, src: Sources, db: HubDb | None = None
) -> bool:
    """Raise AssertionError naming the differences unless the hub equals ``src``; True
    otherwise (so it can be polled with ``eventually``)."""
    problem = hub_mismatch(data_dir, center_id, src, db)
    assert not problem, f"{center_id}: {problem}"
    return True


def wait_converged(
    data_dir: Path,
    ad: AgentDir,
    src: Sources,
    db: HubDb | None = None,
    timeout: float = 60,
) -> None:
    """Wait until the agent has every change acknowledged and the hub equals ``src``."""
    center = ad.center_id
    eventually(lambda: synced(ad), timeout=timeout, interval=0.1, what=f"{center} synced")
    # Synced says every *assigned* change is committed; a poll may still be assigning.
    eventually(lambda: assert_hub_equals(data_dir, center, src, db), timeout=15, interval=0.3)


# -- the hub's database -------------------------------------------------------------------


class HubDb:
    """Direct SQL on the hub's database: progress probes and edits behind the hub's back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def scalar(self, sql: str, **params: object) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params: object) -> int:
        """Run one statement in its own committed transaction; the rows it touched."""
        with self.engine.begin() as conn:
            return int(conn.execute(text(sql), params).rowcount)

    def hwm(self, center_id: str) -> int:
        value = self.scalar("SELECT hwm FROM center_sync WHERE center_id = :c", c=center_id)
        return int(value or 0)

    def counts(self, center_id: str) -> tuple[int, int]:
        eq = self.scalar("SELECT count(*) FROM equipment WHERE center_id = :c", c=center_id)
        en = self.scalar("SELECT count(*) FROM entries WHERE center_id = :c", c=center_id)
        return int(eq), int(en)


def wait_hwm(db: HubDb, center_id: str, at_least: int, timeout: float = 60) -> int:
    """Wait until the hub has committed ``center_id`` up to ``at_least``; its hwm then.
    Polled tightly: fault tests use it to strike while batches are flowing."""
    return eventually(
        lambda: (h := db.hwm(center_id)) >= at_least and h,
        timeout=timeout,
        interval=0.005,
        what=f"{center_id} hwm >= {at_least}",
    )


@contextmanager
def hub_db(url: str) -> Iterator[HubDb]:
    db = HubDb(url)
    try:
        yield db
    finally:
        db.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, None for other databases."""
    match = re.match(r"^sqlite:///(.+)$", url)
    return Path(match.group(1)) if match else None


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite database (the online backup API, WAL included)."""
    with sqlite3.connect(src) as live, sqlite3.connect(dst) as copy:
        live.backup(copy)
    live.close()
    copy.close()


# -- the agent's state --------------------------------------------------------------------


def agent_meta(ad: AgentDir) -> dict[str, str]:
    """The agent's state meta, read straight from state.db (cheap enough to poll).

    A plain connection, like the agent's own: a ``mode=ro`` one cannot always open a WAL
    database (it may need to create the -shm/-wal files). A state file that cannot be read
    right now raises AssertionError, so callers can poll with ``eventually``."""
    assert ad.state_path.exists(), f"{ad.state_path} does not exist"
    try:
        conn = sqlite3.connect(ad.state_path, timeout=5)
        try:
            rows = conn.execute("SELECT key, value FROM meta").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise AssertionError(f"{ad.state_path} not readable: {exc}") from exc
    return {str(k): str(v) for k, v in rows}


def synced(ad: AgentDir) -> bool:
    """The hub acknowledged every change this agent assigned, and nothing is pending."""
    s = ad.status()
    return bool(s["backlog"] == 0 and s["hub_hwm"] and s["hub_hwm"] == s["last_assigned_seq"])


def sent_changes(agent: AgentProcess) -> int:
    """Changes this agent process put on the wire (its ``batch_sent`` debug events)."""
    return sum(int(e["changes"]) for e in agent.events("batch_sent"))


def repairs(agent: AgentProcess) -> list[dict[str, Any]]:
    """Reconcile rounds of this agent process that found the hub's copy wrong, and any
    Welcome that showed the hub had lost acknowledged changes. After crashes alone both
    must stay empty: durability, not anti-entropy, has to carry the data through."""
    lost = agent.events("hub_lost_data")
    rounds = [
        e for e in agent.events("reconcile_done") if e["upserts_queued"] or e["deletes_queued"]
    ]
    return lost + rounds


def ack_duplicates(agent: AgentProcess) -> int:
    """Changes the hub acknowledged as replays to this agent process."""
    return sum(int(e["duplicates"]) for e in agent.events("ack"))


# -- processes and links ------------------------------------------------------------------


class Procs:
    """Hubs, agents and proxies a test started; all are stopped at teardown (SIGKILL: the
    processes may be in any state, and a clean stop costs seconds a test does not need)."""

    def __init__(self) -> None:
        self.hubs: list[RunningHub] = []
        self.agents: list[AgentProcess] = []
        self.proxies: list[TcpProxy] = []

    def hub(self, data_dir: Path, listen: str = "127.0.0.1:0") -> RunningHub:
        running = hubenv.start_hub(data_dir, listen)
        self.hubs.append(running)
        return running

    def restart_hub(self, hub: RunningHub, *, kill: bool) -> RunningHub:
        """SIGKILL (or SIGTERM) ``hub`` and start it again on the same data dir and port."""
        if kill:
            hub.kill()
        else:
            hub.stop()
        return self.hub(hub.data_dir, hub.address)

    def agent(self, ad: AgentDir, log_name: str = "agent.log") -> AgentProcess:
        process = start_agent(ad, log_name)
        self.agents.append(process)
        return process

    def proxy(self, address: str) -> TcpProxy:
        host, port = address.rsplit(":", 1)
        proxy = TcpProxy(host, int(port)).start()
        self.proxies.append(proxy)
        return proxy

    def close(self) -> None:
        for agent in self.agents:
            agent.kill()
        for proxy in self.proxies:
            proxy.stop()
        for running in self.hubs:
            running.kill()


def route_through(ad: AgentDir, proxy: TcpProxy) -> None:
    """Make the agent dial ``proxy`` instead of the hub (the certificate names 127.0.0.1)."""
    ad.set_top("hub", proxy.address)
