"""``iplat-hub status``: every center's health, worst first, and what to do about each problem.

Reads the database (like ``center list``), so it works whether or not the hub is serving;
states are those of :mod:`hub.health.states`, problems those of :mod:`hub.health.problems`,
exactly what ``/metrics`` and the dashboard show.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from hub import cli_common, view_render
from hub.cli_common import UsageError
from hub.config import HubConfig
from hub.health import FleetReport, assess_fleet
from hub.health.problems import duration
from proto import timeconv

CLEAR = "\x1b[H\x1b[2J"


def _serving(cfg: HubConfig) -> str | None:
    """The serving hub's addresses from serve.json, if its process is alive."""
    try:
        info = json.loads(cfg.serve_info_path.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # alive, run by another user (the service account)
    except OSError:
        return None  # a stale serve.json: the hub died without removing it
    http = f", HTTP {info['http']} (dashboard /ops/, /metrics)" if info.get("http") else ""
    return f"gRPC {info.get('grpc')}{http}"


def _read(cfg: HubConfig, centers: list[str] | None) -> FleetReport:
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        statuses = store.center_statuses(now)
    if centers:
        known = {s.center.id for s in statuses}
        missing = [c for c in centers if c not in known]
        if missing:
            raise UsageError(
                f"no center {missing[0]!r}; see 'iplat-hub center list --data-dir {cfg.data_dir}'"
            )
        statuses = [s for s in statuses if s.center.id in centers]
    return assess_fleet(statuses, now, cfg.sync, cfg.ops)


def render_text(report: FleetReport, lang: str, serving: str | None, data_dir: str) -> str:
    counts = report.state_counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    lines = [f"hub status at {timeconv.iso(report.now)}: "]
    lines[0] += f"{len(report.centers)} centers ({summary})"
    lines.append(
        f"serving: {serving}"
        if serving
        else "no hub is serving from this data dir: every center goes offline "
        f"(start it with 'iplat-hub serve --data-dir {data_dir}')"
    )
    if not report.centers:
        add = f"iplat-hub center add ... --data-dir {data_dir}"
        lines.append(f"no centers yet: add one with '{add}'")
        return "\n".join(lines) + "\n"
    rows = []
    for c in report.centers:
        st = c.status.state
        heard = "-"
        if st.last_seen is not None:
            heard = f"{duration(report.now - st.last_seen).get(lang)} ago"
        lag = f"{st.commit_lag_seconds:.1f}s" if st.commit_lag_seconds is not None else "-"
        cert = timeconv.iso(c.status.cert_expires_at) or "-"
        rows.append(
            [
                c.id,
                c.status.center.industry,
                c.state,
                heard,
                str(st.backlog),
                lag,
                cert[:10],
                st.agent_version or "-",
                str(len(c.problems)),
            ]
        )
    header = ["center", "industry", "state", "last heard", "backlog", "lag", "cert expires"]
    lines += ["", *view_render.table([*header, "agent", "problems"], rows)]
    problems = [p.line(c.id, lang) for c in report.centers for p in c.problems]
    lines += ["", "problems, worst first:" if problems else "no problems"]
    lines += [f"  {line}" for line in problems]
    return "\n".join(lines) + "\n"


def to_json(report: FleetReport, serving: str | None) -> dict[str, Any]:
    data = report.to_json()
    data["serving"] = serving
    return data


def cmd_status(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    if args.watch is not None and args.watch < 0.5:
        raise UsageError(f"--watch {args.watch}: use at least 0.5 seconds")
    iterations = args.iterations
    shown = 0
    try:
        while True:
            report = _read(cfg, args.center)
            serving = _serving(cfg)
            if args.json:
                text = json.dumps(to_json(report, serving), ensure_ascii=False, indent=2) + "\n"
            else:
                text = render_text(report, args.lang, serving, str(cfg.data_dir))
            if args.watch is not None and sys.stdout.isatty():
                sys.stdout.write(CLEAR)
            sys.stdout.write(text)
            sys.stdout.flush()
            shown += 1
            if args.watch is None or (iterations is not None and shown >= iterations):
                return 0
            # --watch: redraw on a timer until Ctrl-C; the database is read each time.
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0


def add_parsers(sub: Any) -> None:
    sp = sub.add_parser(
        "status",
        help="every center's health, worst first, with what to do about each problem",
        description="Reads the hub's database: states (online, stale, offline, missing, ...) "
        "from each agent's heartbeat interval and [ops] in hub.toml; problems with one line "
        "each saying what to do. The same as /metrics and the dashboard /ops/ show.",
    )
    cli_common.add_data_dir(sp)
    sp.add_argument("--json", action="store_true", help="print JSON (the dashboard's shape)")
    sp.add_argument(
        "--watch",
        type=float,
        nargs="?",
        const=5.0,
        metavar="SECONDS",
        help="redraw every SECONDS (default 5) until Ctrl-C",
    )
    sp.add_argument("--lang", choices=("en", "ko"), default="en", help="language of problems")
    sp.add_argument("--center", action="append", help="only this center (repeatable)")
    # For tests: stop --watch after N redraws.
    sp.add_argument("--iterations", type=int, help=argparse.SUPPRESS)
    sp.set_defaults(func=cmd_status)
