"""The benchmark at toy size, so its code cannot rot (the real run: python -m bench)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import report
from tests.helpers import postgres


def _run(tmp_path: Path, kind: str) -> report.Outcome:
    args = bench_main.parse_args(
        ["--store", kind, "--centers", "2", "--records", "50", "--latency-samples", "4"]
    )
    return bench_main.run_one(kind, args, tmp_path)


def _check(outcome: report.Outcome) -> None:
    s = outcome.sync
    assert s.hub_rows == 100
    assert s.round_changes == 2  # 1% of 50 records is 1 per center
    assert s.round.wire is not None and s.round.wire.up > 0 and s.round.wire.down > 0
    assert s.initial.seconds > 0 and s.connect_seconds > 0
    assert len(s.latencies_ms) == 4 and all(x > 0 for x in s.latencies_ms)
    assert outcome.raw.rows == 100 and outcome.raw.rate > 0
    text = report.table(outcome)
    assert "initial sync of 100 records" in text and "ingest / raw" in text


def test_bench_runs_on_sqlite(tmp_path: Path) -> None:
    _check(_run(tmp_path, "sqlite"))


@pytest.mark.postgres
def test_bench_runs_on_postgresql(tmp_path: Path) -> None:
    if not postgres.available():
        if postgres._required():
            pytest.fail(f"PostgreSQL required but not reachable at {postgres.ADMIN_URL}")
        pytest.skip(f"PostgreSQL not reachable at {postgres.ADMIN_URL}")
    _check(_run(tmp_path, "postgresql"))
