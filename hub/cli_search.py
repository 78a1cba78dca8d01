"""``iplat-hub search``: which equipment is free for N hours in a window, from the database.

The same engine as the gRPC and HTTP APIs (:mod:`hub.availability`), reading the hub's
database directly, so an operator can answer a phone call without a portal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from hub import cli_common
from hub.availability import QueryError, SearchQuery, parse_instant, render, search
from hub.availability.query import DEFAULT_LIMIT, DEFAULT_SLOTS, DEFAULT_TIME_ZONE
from hub.cli_common import UsageError, load_config, open_store

# QueryError.field -> the option a user typed.
_OPTIONS = {
    "from": "--from",
    "to": "--to",
    "hours": "--hours",
    "capabilities": "--capability",
    "capability": "--capability",
    "slots_per_result": "--slots",
    "time_zone": "--tz",
    "tz": "--tz",
}


def _usage(exc: QueryError) -> UsageError:
    option = _OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
    return UsageError(f"{option}: {exc}")


def cmd_search(args: argparse.Namespace) -> int:
    try:
        query = SearchQuery(
            window_from=parse_instant(args.from_, "from", args.tz),
            window_to=parse_instant(args.to, "to", args.tz),
            hours=args.hours,
            industry=args.industry,
            category=args.category,
            capabilities=tuple(args.capability or ()),
            region=args.region,
            stage=args.stage,
            service=args.service,
            text=args.text,
            time_zone=args.tz,
            limit=args.limit,
            offset=args.offset,
            slots_per_result=args.slots,
        )
    except QueryError as exc:
        raise _usage(exc) from None
    cfg = load_config(args)
    with open_store(cfg) as store:
        answer = search(store, query, int(time.time()), cfg.sync.stale_after_seconds)
    if args.json:
        cli_common.out(json.dumps(render.answer_json(answer), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render.answer_text(answer))
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser(
        "search",
        help="find equipment free for N hours in a window (reads the database)",
        description="Equipment anywhere that is free for --hours contiguous hours between "
        "--from and --to (at most 92 days), earliest first. Free time = operating hours "
        "minus bookings, maintenance and closures, honouring booking rules; equipment of "
        "centers whose agent is silent is listed after the rest as STALE (unconfirmed). "
        "Times without an offset are read in --tz.",
    )
    cli_common.add_data_dir(sp)
    sp.add_argument("--from", dest="from_", required=True, help="window start, ISO 8601")
    sp.add_argument("--to", required=True, help="window end (exclusive), ISO 8601")
    sp.add_argument("--hours", type=float, required=True, help="contiguous hours needed")
    sp.add_argument("--industry", help="center's industry code, e.g. bio")
    sp.add_argument("--category", help="equipment category code (exact)")
    sp.add_argument(
        "--capability", action="append", help="capability tag, all must match (repeatable)"
    )
    sp.add_argument("--region", help="center's region (exact), e.g. 대전")
    sp.add_argument("--stage", help="R&D stage code, e.g. validation")
    sp.add_argument("--service", help="service kind code, e.g. test-analysis")
    sp.add_argument("--text", help="part of the Korean or English name (case-insensitive)")
    sp.add_argument("--tz", default=DEFAULT_TIME_ZONE, help="time zone of input and output")
    sp.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="results per page")
    sp.add_argument("--offset", type=int, default=0, help="results to skip (paging)")
    sp.add_argument("--slots", type=int, default=DEFAULT_SLOTS, help="free periods per result")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.set_defaults(func=cmd_search)
