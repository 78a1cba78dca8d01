"""bench/query.py at toy scale: the generator, the bulk load and the
timed searches work, and the engine answers the benchmark's queries sensibly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bench import query
from hub.store import Store


def test_query_bench_runs_at_toy_scale(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    outcome = query.run(
        url, centers=12, per_center=20, entries_per=3, searches=8, log=lambda _: None
    )
    assert (outcome.centers, outcome.equipment, outcome.entries) == (12, 240, 720)
    assert [t.kind for t in outcome.timings] == ["category", "text"]
    assert all(len(t.samples) == 8 for t in outcome.timings)
    assert sum(sum(t.results) for t in outcome.timings) > 0
    lines = list(query.table([outcome]))
    assert lines[0].startswith("| store | search | p50 ms | p95 ms")
    with Store.open(url) as store, store.engine.connect() as conn:
        # The generator makes long entries too (maintenance, closures), for the second scan.
        longest = conn.execute(text("SELECT MAX(end_at - start_at) FROM entries")).scalar_one()
        assert longest > 86400
