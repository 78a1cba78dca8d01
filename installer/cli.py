"""``iplat-install``: ``agent`` installs, enrolls and starts an agent; ``uninstall`` removes it.

Commands raise :class:`installer.errors.InstallerError`; only :func:`main` prints errors, and
it returns the error's exit code. ``main(argv)`` runs in-process, so tests call it directly.

Two hidden options exist for the test suite only: ``--fail-at STEP`` (fail right after a
step, to check the rollback) and ``--test-deps-from SITE_PACKAGES`` (see installer.venv).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from installer import __version__, layout, manifest
from installer.checks import HubAddress
from installer.console import Console
from installer.context import DEFAULT_SERVICE_USER, DEFAULT_WAIT_SECONDS, InstallOptions
from installer.errors import InstallerError, UsageError
from installer.install import install
from installer.install_steps import STEP_NAMES
from installer.uninstall import UninstallOptions, uninstall
from installer.venv import SiteDeps, default_package

_FINGERPRINT = re.compile(r"^sha256:[0-9a-fA-F]{64}$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iplat-install",
        description=(
            "Install, enroll and start the i-Platform sync agent on this machine, or remove it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"iplat-install {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "agent",
        help="install the agent, enroll it with the hub, start it and wait for its first sync",
        description=(
            "Checks this machine, installs the agent into its own virtual environment, enrolls "
            "it with a one-time token, writes agent.toml, checks the sources, writes a "
            "hardened systemd unit and starts the agent, then waits for its first acknowledged "
            "sync. Any failure undoes what the run did. Running it again upgrades the agent "
            "and keeps its key, state and configuration."
        ),
    )
    p.add_argument("--hub", required=True, help="the hub's HOST:PORT, from the hub operator")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", help="one-time enrollment token (iplat-hub token create)")
    token.add_argument("--token-file", type=Path, help="read the token from this file")
    p.add_argument("--ca-fingerprint", help="sha256:HEX of the hub's CA, from the hub operator")
    _dirs(p)
    p.add_argument(
        "--service",
        choices=layout.SERVICES,
        help="systemd: a hardened service (needs root; default); none: a background process",
    )
    p.add_argument(
        "--service-user",
        default=DEFAULT_SERVICE_USER,
        help=f"account the service runs as, created if missing (default {DEFAULT_SERVICE_USER})",
    )
    p.add_argument(
        "--unit-dir",
        type=Path,
        default=layout.DEFAULT_UNIT_DIR,
        help=f"where the systemd unit goes (default {layout.DEFAULT_UNIT_DIR})",
    )
    p.add_argument(
        "--package",
        help="what pip installs into the venv (default: the source of this installer: "
        f"{default_package()})",
    )
    p.add_argument(
        "--wheelhouse",
        type=Path,
        help="install from this directory of wheels only, without a package index",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=(
            f"wait this long for the first sync (default {DEFAULT_WAIT_SECONDS:.0f}; "
            "0: do not wait)"
        ),
    )
    p.add_argument("--dry-run", action="store_true", help="print each step without doing it")
    p.add_argument("--fail-at", choices=STEP_NAMES, help=argparse.SUPPRESS)
    p.add_argument("--test-deps-from", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_agent)

    u = sub.add_parser(
        "uninstall",
        help="stop and remove the agent; the center's own files stay",
        description=(
            "Stops the agent and removes the service, the program, the state and the files "
            "the installer wrote (as its manifest in PREFIX records them). Files it did not "
            "write, and files it wrote that were changed since, are kept."
        ),
    )
    _dirs(u)
    u.add_argument(
        "--keep-state",
        action="store_true",
        help="keep the state dir (state database, key, certificate) for a later install",
    )
    u.add_argument("--dry-run", action="store_true", help="print each step without doing it")
    u.set_defaults(func=_cmd_uninstall)
    return parser


def _dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prefix",
        type=Path,
        default=layout.DEFAULT_PREFIX,
        help=f"program files: venv and manifest (default {layout.DEFAULT_PREFIX})",
    )
    p.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help=f"agent.toml and the CSV sources (default {layout.DEFAULT_CONFIG_DIR})",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"state database and certificates (default {layout.DEFAULT_STATE_DIR})",
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return _parser().parse_args(argv)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(sys.stdout)
    # A closed SSH session (SIGHUP) or a `kill` (SIGTERM) must roll back like Ctrl-C does,
    # not leave half an install behind.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        code: int = args.func(args, console)
    except InstallerError as exc:
        print(f"iplat-install {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        after = (
            "what this run had done was undone"
            if args.command == "agent"
            else "run it again to finish"
        )
        print(f"iplat-install {args.command}: interrupted; {after}", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file is None:
        return str(args.token).strip() if args.token else None
    try:
        return str(args.token_file.read_text(encoding="utf-8")).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--token-file {args.token_file}: cannot read it ({exc})") from None


def install_options(args: argparse.Namespace) -> InstallOptions:
    """The options of ``iplat-install agent ARGS``; UsageError for a wrong value."""
    if args.ca_fingerprint and not _FINGERPRINT.match(args.ca_fingerprint):
        raise UsageError(
            f"--ca-fingerprint {args.ca_fingerprint!r} is not sha256: followed by 64 hex digits; "
            "copy it exactly as the hub operator gave it"
        )
    if args.wait < 0:
        raise UsageError("--wait must be 0 or more seconds")
    # A re-run needs none of the dirs or the service mode again: the manifest knows them.
    previous = manifest.load(args.prefix.expanduser().absolute() / layout.MANIFEST_NAME)
    return InstallOptions(
        hub=HubAddress.parse(args.hub),
        layout=layout.Layout.make(
            args.prefix,
            args.config_dir
            or (Path(previous.config_dir) if previous else layout.DEFAULT_CONFIG_DIR),
            args.state_dir or (Path(previous.state_dir) if previous else layout.DEFAULT_STATE_DIR),
            args.unit_dir,
        ),
        token=_token(args),
        ca_fingerprint=args.ca_fingerprint.lower() if args.ca_fingerprint else None,
        service=args.service or (previous.service if previous else "systemd"),
        service_user=args.service_user,
        package=args.package or default_package(),
        wheelhouse=args.wheelhouse.absolute() if args.wheelhouse else None,
        wait_seconds=args.wait,
        dry_run=args.dry_run,
        fail_at=args.fail_at,
        site_deps=SiteDeps(args.test_deps_from.absolute()) if args.test_deps_from else None,
    )


def _cmd_agent(args: argparse.Namespace, console: Console) -> int:
    install(install_options(args), console)
    return 0


def _cmd_uninstall(args: argparse.Namespace, console: Console) -> int:
    uninstall(
        UninstallOptions(
            prefix=args.prefix,
            config_dir=args.config_dir,
            state_dir=args.state_dir,
            keep_state=args.keep_state,
            dry_run=args.dry_run,
        ),
        console,
    )
    return 0
