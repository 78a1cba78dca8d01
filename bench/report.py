"""The result table (Markdown, so it can be pasted into docs/benchmarks.md as printed)."""

from __future__ import annotations

import math
import os
import platform
import statistics
from dataclasses import dataclass

from bench.store import RawResult
from bench.sync import SyncResult

# Targets of the issue, for a 2-core machine on SQLite.
TARGET_INITIAL_S = 2.0
TARGET_ROUND_S = 0.2
TARGET_ROUND_BYTES = 300_000
TARGET_P50_MS = 5.0
TARGET_RATIO = 0.70


@dataclass
class Outcome:
    sync: SyncResult
    raw: RawResult

    @property
    def ingest_rate(self) -> float:
        return self.sync.records / self.sync.initial.seconds

    @property
    def ratio(self) -> float:
        return self.ingest_rate / self.raw.rate

    @property
    def p50(self) -> float:
        return statistics.median(self.sync.latencies_ms)

    @property
    def p99(self) -> float:
        return percentile(self.sync.latencies_ms, 0.99)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``q`` of them at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.3f} MB"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(centers: int, records: int, samples: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{centers} centers x {records:,} records ({records // 10:,} equipment + "
        f"{records - records // 10:,} calendar entries each). Machine: {os.cpu_count()} x "
        f"{_cpu_model()}, {platform.python_implementation()} {platform.python_version()}, "
        f"load average {load:.1f} at the end of the run.\n"
        "Hub: `python -m hub serve` in its own process. Agents: one `agent.client.Session` "
        "per center (real AgentState outbox, real CSV sources, mTLS stream) in one asyncio "
        "loop in the bench process, dialing the hub directly, except for the 1% round: then "
        "through a byte-counting TCP proxy in its own process (bytes = TLS records both ways). "
        f"Latency: {samples} single-record changes, one at a time over the centers; visible = "
        "the Ack arrived at the agent (the hub acks only after its commit)."
    )


def table(out: Outcome) -> str:
    s, raw = out.sync, out.raw
    n = s.records
    per_center_ms = s.read_diff.seconds / s.centers * 1000
    rows = [
        ("metric", "result", "target", ""),
        ("---", "---", "---", "---"),
        (
            f"read + diff of the first snapshot ({n:,} records, all centers in this process)",
            f"{s.read_diff.seconds:.2f} s ({per_center_ms:.0f} ms per center)",
            "",
            "",
        ),
        (
            f"initial sync of {n:,} records ({s.centers} mTLS sessions started at once; "
            f"the last Welcome after {s.connect_seconds * 1000:.0f} ms)",
            f"{s.initial.seconds:.2f} s = {out.ingest_rate:,.0f} records/s",
            f"<= {TARGET_INITIAL_S:.1f} s",
            _mark(s.initial.seconds <= TARGET_INITIAL_S),
        ),
        (
            "  CPU during the initial sync: hub process / agents' process",
            f"{s.initial.hub_cpu:.2f} s / {s.initial.bench_cpu:.2f} s",
            "",
            "",
        ),
        (
            f"1% round: read + diff ({s.round_changes:,} changed records)",
            f"{s.round_read_diff.seconds * 1000:.0f} ms "
            f"({s.round_read_diff.seconds / s.centers * 1000:.1f} ms per center)",
            "",
            "",
        ),
        (
            f"1% round: {s.round_changes:,} changes from outboxes to acknowledged",
            f"{s.round.seconds * 1000:.0f} ms",
            f"<= {TARGET_ROUND_S * 1000:.0f} ms",
            _mark(s.round.seconds <= TARGET_ROUND_S),
        ),
        (
            "1% round: bytes on the wire (both directions, TLS included)",
            f"{_mb(s.round.wire.total if s.round.wire else 0)} "
            f"(up {s.round.wire.up if s.round.wire else 0:,} / "
            f"down {s.round.wire.down if s.round.wire else 0:,} B)",
            f"< {_mb(TARGET_ROUND_BYTES)}",
            _mark((s.round.wire.total if s.round.wire else 0) < TARGET_ROUND_BYTES),
        ),
        (
            f"change-to-visible latency p50 / p99 ({len(s.latencies_ms)} single changes)",
            f"{out.p50:.2f} / {out.p99:.2f} ms",
            f"p50 < {TARGET_P50_MS:.0f} ms",
            _mark(out.p50 < TARGET_P50_MS),
        ),
        (
            f"raw store upsert (same rows, {raw.batches} transactions, {raw.writers} at a time, "
            "no gRPC)",
            f"{raw.rate:,.0f} rows/s ({raw.seconds:.2f} s)",
            "",
            "",
        ),
        (
            "ingest / raw",
            f"{out.ratio:.0%}",
            f">= {TARGET_RATIO:.0%}",
            _mark(out.ratio >= TARGET_RATIO),
        ),
    ]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)
