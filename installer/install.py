"""``iplat-install agent``: install, enroll and start an agent, as one transaction.

The steps are in :mod:`installer.install_steps`; this module runs them (or, with
``--dry-run``, prints them) and prints the summary of where everything is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from installer import __version__, install_steps, layout, manifest
from installer.console import Console
from installer.context import InstallOptions, InstallRun
from installer.transaction import Transaction
from installer.venv import DIST_NAME


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_run(
    options: InstallOptions, console: Console, clock: Callable[[], datetime] = _utc_now
) -> InstallRun:
    lay = options.layout
    previous = manifest.load(lay.manifest)
    if previous is not None:
        start = replace(previous, complete=False, installer_version=__version__)
    else:
        start = manifest.Manifest(
            prefix=str(lay.prefix),
            config_dir=str(lay.config_dir),
            state_dir=str(lay.state_dir),
            service=options.service,
            unit_path=str(lay.unit_path(options.service)),
            hub=str(options.hub),
            installer_version=__version__,
        )
    return InstallRun(options, console, clock, previous=previous, manifest=start)


def install(
    options: InstallOptions, console: Console, clock: Callable[[], datetime] = _utc_now
) -> InstallRun:
    """Run (or with ``dry_run`` print) the install; returns the finished run."""
    run = new_run(options, console, clock)

    def save_manifest() -> None:
        if run.manifest_live:
            manifest.save(options.layout.manifest, run.manifest)

    transaction = Transaction(
        install_steps.all_steps(run), console, fail_at=options.fail_at, after_step=save_manifest
    )
    if options.dry_run:
        console.line(f"dry run: nothing is changed; this would install {DIST_NAME} as follows")
        transaction.dry_run()
        return run
    transaction.run()
    _summary(run)
    return run


def _summary(run: InstallRun) -> None:
    o, lay, c = run.options, run.layout, run.console
    unit = lay.unit_path(o.service)
    c.line()
    c.line(
        f"The i-Platform agent for center {run.center_id} is installed "
        f"(iplat-agent {run.agent_version})."
    )
    rows = [
        ("hub", str(o.hub)),
        ("prefix", str(lay.prefix)),
        ("venv", f"{lay.venv} (iplat-agent {run.agent_version} from {o.package})"),
        ("config", f"{lay.config_file}  <- edit the sources here"),
        ("sources", f"{lay.config_dir}/*.csv unless agent.toml names others"),
        ("state", f"{lay.state_db}"),
        ("certificates", f"{lay.tls_dir} (renewed by the agent itself)"),
    ]
    if o.service == "systemd":
        rows += [
            (
                "service",
                f"{unit} (user {o.service_user})" + ("" if run.started else ", NOT started"),
            ),
            ("logs", f"journalctl -u {layout.UNIT_NAME}"),
            ("stop/start", f"systemctl stop|start {layout.UNIT_NAME}"),
        ]
    else:
        rows += [
            ("process", f"pid {run.pid} (pid file {lay.pid_file}); not restarted after a reboot"),
            ("logs", f"{lay.log_file}"),
            ("unit", f"{unit} (reference; to run as a service: re-run with --service systemd)"),
        ]
    rows += [
        ("status", f"{lay.agent_exe} status --config {lay.config_file}"),
        ("manifest", f"{lay.manifest}"),
        ("uninstall", f"iplat-install uninstall --prefix {lay.prefix}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        c.line(f"  {key:<{width}}  {value}")
    for note in run.notes:
        c.line(f"NOTE: {note}")
