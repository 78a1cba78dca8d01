"""``iplat-agent``: init, enroll, check, run, status, approve-deletes, requests (cli_requests).

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

from agent import cli_requests, enroll, logs, pki, templates
from agent.check import format_check, run_check
from agent.config import AgentConfig, TlsConfig, load_config
from agent.errors import (
    AgentError,
    CertificateExpiredError,
    ConfigError,
    PkiError,
    SourceError,
    StateError,
)
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

    p = sub.add_parser(
        "enroll",
        help="get this center's certificate from the hub with a one-time token",
        description=(
            "Make the key here, check the hub's CA against --ca-fingerprint (nothing is sent "
            "unless it matches), exchange the token for a certificate, and write agent.crt, "
            "ca.pem and (if absent) agent.toml and the CSV templates into --dir."
        ),
    )
    p.add_argument("--hub", required=True, help="the hub's HOST:PORT")
    token = p.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", help="the one-time token from the hub operator")
    token.add_argument(
        "--token-file", type=Path, help="read the token from this file (keeps it out of `ps`)"
    )
    p.add_argument(
        "--ca-fingerprint",
        required=True,
        help="sha256:HEX of the hub's CA, from the hub operator (pinned: no trust on first use)",
    )
    p.add_argument(
        "--dir", type=Path, default=Path("."), help="the agent directory (default: current)"
    )
    p.add_argument("--center", help="refuse the certificate unless the token is for this center id")
    p.set_defaults(func=cmd_enroll)

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
    cli_requests.register(sub, DEFAULT_CONFIG)
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


def _check_center(center: str, option: str = "--center") -> str:
    try:
        return identity.check_center_id(center)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def _write_agent_files(directory: Path, center: str, hub: str, *, force: bool) -> list[Path]:
    """agent.toml (unless present and not ``force``) and the CSV templates (unless present)."""
    config_path = directory / "agent.toml"
    made = []
    if force or not config_path.exists():
        pki.write_atomic(config_path, templates.default_config_text(center, hub).encode())
        made.append(config_path)
    for name, text in (
        (templates.EQUIPMENT_CSV_NAME, templates.EQUIPMENT_CSV_TEMPLATE),
        (templates.CALENDAR_CSV_NAME, templates.CALENDAR_CSV_TEMPLATE),
    ):
        path = directory / name
        if not path.exists():
            pki.write_atomic(path, text.encode("utf-8"))
            made.append(path)
    return made


def cmd_init(args: argparse.Namespace) -> int:
    center, hub, directory = args.center, args.hub, args.dir.expanduser().resolve()
    _check_center(center)
    enroll.split_hub(hub)
    config_path = directory / "agent.toml"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Refuses (PkiError) before anything is written when a key exists without --force.
    key_path, csr_path = pki.create_key_and_csr(directory, center, force=args.force)
    made = [key_path, csr_path]
    if config_path.exists() and not args.force:
        print(f"kept {config_path} (use --force to replace it)")
    made += _write_agent_files(directory, center, hub, force=args.force)
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


# -- enroll -----------------------------------------------------------------------------


def cmd_enroll(args: argparse.Namespace) -> int:
    directory: Path = args.dir.expanduser().resolve()
    hub = args.hub
    enroll.split_hub(hub)
    try:
        pin = pki.parse_fingerprint(args.ca_fingerprint)
    except ValueError as exc:
        raise ConfigError(f"--ca-fingerprint: {exc}") from None
    center = _check_center(args.center) if args.center else None
    token = enroll.check_token(_read_token(args) if args.token_file else args.token)

    # Re-enrolling an existing agent dir (expired certificate): its agent.toml says where
    # the key, certificate and bundle live, and which center it is for.
    config_path = directory / "agent.toml"
    existing = load_config(config_path) if config_path.exists() else None
    expected, expected_from = center, "--center"
    if existing is not None:
        if center is not None and existing.center_id != center:
            raise ConfigError(
                f"{config_path} is for center {existing.center_id}, not {center} (--center): "
                "use another --dir for another center, or fix center_id in agent.toml"
            )
        expected, expected_from = existing.center_id, str(config_path)
    tls = (
        existing.tls
        if existing is not None
        else TlsConfig(
            key=directory / pki.KEY_FILE,
            cert=directory / pki.CERT_FILE,
            ca=directory / pki.CA_FILE,
        )
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    enrolled = enroll.enroll(
        hub,
        token,
        pin,
        known_bundle=tls.ca,
        expected_center=expected,
        expected_from=expected_from,
    )
    made = enroll.install(enrolled, tls)
    made += _write_agent_files(directory, enrolled.center_id, hub, force=False)
    days = (enrolled.cert_not_after - datetime.now(UTC)).days
    print(f"enrolled center {enrolled.center_id} ({enrolled.identity}) with hub {hub}")
    print(f"  hub CA {enrolled.ca_fingerprint} (matched the pinned fingerprint)")
    print(
        f"  certificate valid until {enrolled.cert_not_after:%Y-%m-%d %H:%M} UTC ({days} days); "
        "the running agent renews it by itself"
    )
    for path in made:
        note = " (private, mode 0600; it never leaves this machine)" if path == tls.key else ""
        print(f"wrote {path}{note}")
    if existing is not None:
        print(f"kept {config_path}")
        if existing.hub != hub:
            print(f"note: {config_path} says hub = {existing.hub!r}; you enrolled with {hub}")
    print(
        f"\nnext: fill {templates.EQUIPMENT_CSV_NAME} and {templates.CALENDAR_CSV_NAME} "
        f"(or point agent.toml at your sources), then run\n"
        f"  iplat-agent check --config {config_path}\n"
        f"  iplat-agent run --config {config_path}"
    )
    return 0


def _read_token(args: argparse.Namespace) -> str:
    path: Path = args.token_file
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"--token-file {path}: cannot read it ({exc}); check the path and permissions"
        ) from None


# -- check ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report = run_check(config)
    print(format_check(report))
    tls_ok = _check_tls(config)
    return 0 if report.ok and tls_ok else 1


def _check_tls(config: AgentConfig) -> bool:
    now = datetime.now(UTC)
    # A key/certificate swap a crash interrupted is completed first, as `run` would.
    pki.finish_interrupted_install(config.tls.key, config.tls.cert)
    try:
        material = pki.load_tls(config.tls, config.center_id, now, hub=config.hub)
    except AgentError as exc:
        print(f"FAIL certificates: {exc}")
        return False
    days = (material.not_after - now).days
    line = (
        f"ok   certificates: {config.tls.cert.name} for {material.identity}, "
        f"expires {material.not_after:%Y-%m-%d} ({days} days)"
    )
    if material.expires_soon(now):
        line += (
            ": it should have been renewed by now; check that the agent runs and reaches the "
            "hub, or " + pki.reenroll_hint(config.center_id, config.hub, config.tls.cert.parent)
        )
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
    certificate = _certificate_status(config)
    try:
        report = read_status(config)
    except StateError as exc:
        if certificate["problem"]:
            raise PkiError(f"{certificate['problem']}; and {exc}") from None
        raise
    if args.json:
        print(
            json.dumps(
                {**report.to_json(), "certificate": certificate}, ensure_ascii=False, indent=2
            )
        )
    else:
        print(format_status(report))
        if certificate["problem"]:
            print(f"CERTIFICATE  {certificate['problem']}")
        else:
            print(f"certificate  valid until {certificate['not_after']} (renewed automatically)")
    return 0


def _certificate_status(config: AgentConfig) -> dict[str, str | None]:
    """The certificate's expiry, or the problem that keeps the agent from connecting."""
    try:
        material = pki.load_tls(config.tls, config.center_id, hub=config.hub)
    except AgentError as exc:
        not_after = exc.not_after if isinstance(exc, CertificateExpiredError) else None
        return {
            "not_after": f"{not_after:%Y-%m-%dT%H:%M:%SZ}" if not_after else None,
            "problem": str(exc),
        }
    return {"not_after": f"{material.not_after:%Y-%m-%dT%H:%M:%SZ}", "problem": None}


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
