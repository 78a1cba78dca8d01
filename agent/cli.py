"""``iplat-agent``: init, check, run, status, approve-deletes.

Commands raise :class:`agent.errors.AgentError` (messages say what to do next); only
:func:`main` prints them, with the error's exit code. ``main(argv)`` returns the exit code,
so tests call it in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from agent import logs, pki, templates
from agent.check import format_check, run_check
from agent.config import AgentConfig, load_config
from agent.errors import AgentError, ConfigError, SourceError
from agent.runner import Agent
from agent.sources import build_sources
from agent.state import AgentState
from agent.status import format_status, read_status
from agent.version import __version__
from proto import identity

DEFAULT_CONFIG = Path("agent.toml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iplat-agent",
        description="Sync a center's equipment and booking calendar to the i-Platform hub.",
    )
    parser.add_argument("--version", action="version", version=f"iplat-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="make the key, CSR, agent.toml and CSV templates")
    p.add_argument("--center", required=True, help="this center's id, e.g. KR-MR-0001")
    p.add_argument("--hub", required=True, help="the hub's HOST:PORT")
    p.add_argument("--dir", required=True, type=Path, help="the agent directory to create")
    p.add_argument("--force", action="store_true", help="replace an existing key and agent.toml")
    p.set_defaults(func=cmd_init)

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_text)
        q.add_argument(
            "--config", type=Path, default=DEFAULT_CONFIG, help="agent.toml (default: ./agent.toml)"
        )
        return q

    with_config(
        "check", "read the sources and check the certificates, without network"
    ).set_defaults(func=cmd_check)
    with_config("run", "run the agent (until SIGTERM or Ctrl-C)").set_defaults(func=cmd_run)
    q = with_config("status", "show the agent's sync status from its state database")
    q.add_argument("--json", action="store_true", help="print JSON instead of text")
    q.set_defaults(func=cmd_status)
    with_config("approve-deletes", "publish deletions held back by the safety valve").set_defaults(
        func=cmd_approve_deletes
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except AgentError as exc:
        print(f"iplat-agent {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return code


# -- init -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    center, hub, directory = args.center, args.hub, args.dir.expanduser().resolve()
    try:
        identity.check_center_id(center)
    except ValueError as exc:
        raise ConfigError(f"--center: {exc}") from None
    host, sep, port = hub.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--hub {hub!r} is not HOST:PORT; write e.g. --hub hub.example.kr:7443")
    config_path = directory / "agent.toml"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Refuses (PkiError) before anything is written when a key exists without --force.
    key_path, csr_path = pki.create_key_and_csr(directory, center, force=args.force)
    made = [key_path, csr_path]
    if args.force or not config_path.exists():
        pki.write_atomic(config_path, templates.default_config_text(center, hub).encode())
        made.append(config_path)
    else:
        print(f"kept {config_path} (use --force to replace it)")
    for name, text in (
        (templates.EQUIPMENT_CSV_NAME, templates.EQUIPMENT_CSV_TEMPLATE),
        (templates.CALENDAR_CSV_NAME, templates.CALENDAR_CSV_TEMPLATE),
    ):
        path = directory / name
        if not path.exists():
            pki.write_atomic(path, text.encode("utf-8"))
            made.append(path)
    for path in made:
        print(f"wrote {path}")
    print(
        f"\nnext: send {pki.CSR_FILE} to the hub operator: "
        f"iplat-hub center sign {pki.CSR_FILE} --center {center}; "
        f"put {pki.CERT_FILE} and {pki.CA_FILE} in {directory}\n"
        f"then: fill {templates.EQUIPMENT_CSV_NAME} and {templates.CALENDAR_CSV_NAME} "
        f"(or point agent.toml at your sources), run "
        f"iplat-agent check --config {config_path}, and start "
        f"iplat-agent run --config {config_path}"
    )
    return 0


# -- check ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report = run_check(config)
    print(format_check(report))
    tls_ok = _check_tls(config)
    return 0 if report.ok and tls_ok else 1


def _check_tls(config: AgentConfig) -> bool:
    now = datetime.now(UTC)
    try:
        material = pki.load_tls(config.tls, config.center_id, now)
    except AgentError as exc:
        print(f"FAIL certificates: {exc}")
        return False
    days = (material.not_after - now).days
    line = (
        f"ok   certificates: {config.tls.cert.name} for {material.identity}, "
        f"expires {material.not_after:%Y-%m-%d} ({days} days)"
    )
    if material.expires_soon(now):
        line += ": renew it soon (iplat-agent init --force, then have the CSR signed)"
    print(line)
    problem = pki.key_mode_problem(config.tls.key)
    if problem:
        print(f"warn key: {problem}")
    return True


# -- run --------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    logs.setup(config.center_id, config.log_level)
    asyncio.run(_serve(Agent(config)))
    return 0


async def _serve(agent: Agent) -> None:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, agent.shutdown)
    try:
        await agent.run()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


# -- status -----------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report = read_status(config)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_status(report))
    return 0


# -- approve-deletes --------------------------------------------------------------------


def cmd_approve_deletes(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.state_path.exists():
        print("nothing is held back: the agent has not run yet")
        return 0
    with AgentState(config.state_path, config.center_id) as state:
        holds = {h.source: h for h in state.holds()}
        if not holds:
            print("nothing is held back by the safety valve; nothing to approve")
            return 0
        sources = [s for s in build_sources(config) if s.name in holds]
        try:
            snapshots = {}
            for source in sources:
                try:
                    snapshots[source.name] = source.read()
                except SourceError as exc:
                    raise SourceError(
                        f"cannot read source {source.name!r} ({exc}); nothing was approved. "
                        "Fix the source and run approve-deletes again"
                    ) from None
        finally:
            for source in sources:
                source.close()
        for name, snap in snapshots.items():
            result = state.apply_snapshot(
                name,
                [*snap.equipment, *snap.entries],
                max_delete_share=config.sync.max_delete_share,
                approved=True,
            )
            print(
                f"source {name!r}: approved; {result.deletes} deletion(s) and {result.upserts} "
                f"other change(s) published ({result.unchanged} records unchanged)"
            )
        gone = sorted(set(holds) - set(snapshots))
        for name in gone:
            print(f"source {name!r}: no longer configured; its hold stays until it is read again")
        backlog = state.backlog()
    print(f"{backlog} change(s) wait for the hub; a running agent sends them within seconds")
    return 0
