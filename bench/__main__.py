"""``python -m bench``: the sync benchmark (see docs/benchmarks.md).

::

    .venv/bin/python -m bench                       # SQLite and PostgreSQL, 50 x 2,000
    .venv/bin/python -m bench --store sqlite --centers 5 --records 200
    .venv/bin/python -m bench --suite query         # availability search (bench/query.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench import hubproc, query, report, store, sync
from bench.workload import CenterData, split
from hub.config import ServerSettings
from proto import limits


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument(
        "--suite",
        choices=("sync", "query"),
        default="sync",
        help="sync (default), or query: availability search over 1,000 centers / 100,000 "
        "equipment / 1,000,000 entries (bench/query.py; smaller: python -m bench.query)",
    )
    p.add_argument("--centers", type=int, default=50, help="simulated centers (default 50)")
    p.add_argument(
        "--records", type=int, default=2000, help="records per center, 10%% equipment (2000)"
    )
    p.add_argument(
        "--latency-samples", type=int, default=200, help="single-record changes timed (200)"
    )
    p.add_argument("--work-dir", type=Path, help="keep hub and agent files here (default: temp)")
    p.add_argument("--json", type=Path, help="also write the raw results to this file")
    args = p.parse_args(argv)
    if args.centers < 1 or args.records < 20 or args.latency_samples < 1:
        p.error("need --centers >= 1, --records >= 20, --latency-samples >= 1")
    return args


def run_one(kind: str, args: argparse.Namespace, work: Path) -> report.Outcome:
    print(f"[{kind}] {args.centers} centers x {args.records:,} records", flush=True)
    with hubproc.database(kind, work / "db", "hub") as url:
        result = asyncio.run(
            sync.run(
                kind,
                url,
                work / kind,
                centers=args.centers,
                records=args.records,
                latency_samples=args.latency_samples,
                log=lambda text: print(text, flush=True),
            )
        )
    eq, en = split(args.records)
    datas = [CenterData(i, eq, en) for i in range(args.centers)]
    with hubproc.database(kind, work / "db", "raw") as url:
        # The batch size agents send (their default, capped by the hub's max_batch_changes)
        # and as many concurrent writers as the hub: one on SQLite, store_threads otherwise.
        writers = 1 if kind == "sqlite" else ServerSettings().store_threads
        raw = store.run(url, datas, min(1000, limits.MAX_BATCH_CHANGES), writers)
    print(f"  raw upsert: {raw.rate:,.0f} rows/s", flush=True)
    return report.Outcome(result, raw)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The agent's and hub's libraries log warnings (a failed session) to stderr.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if "postgresql" in kinds:
        try:
            hubproc._pg_admin().close()
        except Exception as exc:
            if args.store == "postgresql":
                print(f"PostgreSQL not reachable at {hubproc.PG_ADMIN_URL}: {exc}", file=sys.stderr)
                return 2
            print(f"skipping PostgreSQL (not reachable: {exc})", file=sys.stderr)
            kinds.remove("postgresql")
    if args.suite == "query":
        return query.main(kinds, args.json)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="iplat-bench-"))
    outcomes = {}
    try:
        for kind in kinds:
            outcomes[kind] = run_one(kind, args, work)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(report.header(args.centers, args.records, args.latency_samples))
    for kind, outcome in outcomes.items():
        print(f"\n### {kind}\n")
        print(report.table(outcome))
    if args.json:
        args.json.write_text(
            json.dumps(
                {k: {"sync": asdict(o.sync), "raw": asdict(o.raw)} for k, o in outcomes.items()},
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
