"""``iplat-install uninstall``: stop and remove what the install manifest says was installed.

Removed: the service (or the background process), the unit, the venv and PREFIX, the
state dir (unless ``--keep-state``: it keeps the state database, key and certificate for a
later install), the files the installer placed in CONFIG_DIR *that nobody changed since*,
directories it created once empty, and the service account if it created it.

Kept: everything the installer did not create (the center's CSV files and any other file),
and files it created that were changed since (a CSV template filled with the center's
equipment is the center's data now); each kept file is named in the output.

Every part is tried even when one fails; then the manifest stays, so uninstall can be run
again once the problem is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installer import account, background, files, layout, manifest, systemd
from installer.console import Console
from installer.errors import InstallerError, ManifestError, UsageError
from installer.layout import Layout
from installer.manifest import Manifest


@dataclass(frozen=True)
class UninstallOptions:
    prefix: Path
    config_dir: Path | None = None
    """Only checked against the manifest: uninstall removes what the manifest names."""
    state_dir: Path | None = None
    keep_state: bool = False
    dry_run: bool = False


def _layout(options: UninstallOptions) -> tuple[Layout, Manifest]:
    prefix = options.prefix.expanduser().absolute()
    found = manifest.load(prefix / layout.MANIFEST_NAME)
    if found is None:
        raise ManifestError(
            f"no install in {prefix} ({layout.MANIFEST_NAME} is missing): pass the --prefix "
            "used at install time"
        )
    for option, given, recorded in (
        ("--config-dir", options.config_dir, found.config_dir),
        ("--state-dir", options.state_dir, found.state_dir),
    ):
        if given is not None and given.expanduser().absolute() != Path(recorded):
            raise UsageError(
                f"the install in {prefix} uses {option} {recorded}, not {given}: leave "
                f"{option} out (the manifest knows it) or pass {recorded}"
            )
    unit_path = Path(found.unit_path)
    lay = Layout(prefix, Path(found.config_dir), Path(found.state_dir), unit_path.parent)
    return lay, found


def uninstall(options: UninstallOptions, console: Console) -> None:
    lay, m = _layout(options)
    keep = options.keep_state
    written = ", ".join(Path(f.path).name for f in m.config_files) or "nothing"
    parts: list[tuple[str, str, Callable[[], str]]] = [
        (
            "Stopping the agent",
            f"stop and disable {layout.UNIT_NAME}"
            if m.service == "systemd"
            else f"stop the agent of {lay.pid_file}",
            lambda: _stop(lay, m),
        ),
        ("Removing the unit", f"remove {m.unit_path}", lambda: _unit(lay, m)),
        ("Removing the program", f"remove {lay.venv}", lambda: _program(lay, m)),
        (
            "Keeping the state" if keep else "Removing the state",
            f"keep {lay.state_dir}" if keep else f"remove {lay.state_dir}",
            lambda: _state(lay, m, keep),
        ),
        (
            "Removing the configuration written by the installer",
            f"remove from {lay.config_dir}: {written} (each only if unchanged since the install)",
            lambda: _config(lay, m),
        ),
        (
            "Removing the service account",
            f"delete the account {m.service_user}" if m.user_created else "nothing",
            lambda: _user(m),
        ),
    ]
    total = len(parts)
    if options.dry_run:
        console.line(f"dry run: nothing is changed; this would uninstall the agent in {lay.prefix}")
        for index, (title, plan, _) in enumerate(parts, 1):
            console.step(index, total, title)
            console.detail(f"would {plan}")
        return
    # Nothing is removed from under a running agent: a failed stop ends the uninstall.
    title, _, stop = parts[0]
    console.step(1, total, title)
    console.detail(stop())
    failed: list[str] = []
    for index, (title, _, action) in enumerate(parts[1:], 2):
        console.step(index, total, title)
        try:
            console.detail(action())
        except (InstallerError, OSError) as exc:  # try the other parts; report them all
            failed.append(f"{title}: {exc}")
            console.warn(str(exc))
    if failed:
        raise InstallerError(
            "uninstall did not finish (the manifest is kept, so you can run it again):\n  "
            + "\n  ".join(failed)
        )
    lay.manifest.unlink(missing_ok=True)
    # Innermost first: PREFIX and the parents the install had to create, once empty.
    for created in reversed(m.created_dirs):
        files.rmdir_if_empty(Path(created))
    console.line(f"\nuninstalled the agent of center {m.center_id or '?'} from {lay.prefix}")


def _stop(lay: Layout, m: Manifest) -> str:
    if m.service == "systemd":
        if not systemd.running():
            return "systemd is not running: nothing to stop"
        if systemd.is_active(layout.UNIT_NAME) or Path(m.unit_path).exists():
            systemd.systemctl("disable", "--now", layout.UNIT_NAME, step="stop")
            return f"stopped and disabled {layout.UNIT_NAME}"
        return "the service was not installed"
    pid = background.running_pid(lay.pid_file, lay.agent_exe)
    lay.pid_file.unlink(missing_ok=True)
    if pid is None:
        return "the agent was not running"
    killed = background.stop(pid)
    return f"stopped pid {pid}" + (" (it had to be killed)" if killed else "")


def _unit(lay: Layout, m: Manifest) -> str:
    unit = Path(m.unit_path)
    if not unit.exists():
        return "no unit file"
    unit.unlink()
    if m.service == "systemd" and systemd.running():
        systemd.systemctl("daemon-reload", step="unit")
    return f"removed {unit}"


def _program(lay: Layout, m: Manifest) -> str:
    removed = [str(p) for p in (lay.venv, lay.venv_previous) if files.remove(p)]
    return f"removed {', '.join(removed)}" if removed else "no venv"


def _state(lay: Layout, m: Manifest, keep: bool) -> str:
    if not lay.state_dir.exists():
        return "no state dir"
    if keep:
        lay.pid_file.unlink(missing_ok=True)
        manifest.save_kept(lay.state_dir, m.created_dirs)
        kept = "state database, inbox, key and certificate"
        return f"kept {lay.state_dir} ({kept}) for a later install"
    if m.created(lay.state_dir):
        files.remove(lay.state_dir)
        return f"removed {lay.state_dir}"
    # A state dir that existed before the install (it was empty then): empty it again.
    names = layout.STATE_NAMES + layout.RUN_NAMES
    for path in lay.state_dir.iterdir():
        if path.name in names or path.name.startswith(".enroll-"):
            files.remove(path)
    return f"emptied {lay.state_dir} (it existed before the install: kept)"


def _config(lay: Layout, m: Manifest) -> str:
    lines = []
    for created in m.config_files:
        path = Path(created.path)
        if not path.exists():
            continue
        if files.sha256(path) == created.sha256:
            path.unlink()
            lines.append(f"removed {path}")
        else:
            lines.append(f"kept {path}: changed since the install (it may hold your data)")
    if m.created(lay.config_dir):
        if files.rmdir_if_empty(lay.config_dir):
            lines.append(f"removed {lay.config_dir}")
        elif lay.config_dir.exists():
            lines.append(f"kept {lay.config_dir}: it holds files the installer did not write")
    return "\n".join(lines) or "nothing written by the installer is left"


def _user(m: Manifest) -> str:
    if not m.user_created:
        return f"kept the account {m.service_user}" if m.service_user else "no account was created"
    account.delete(m.service_user)
    return f"deleted the account {m.service_user}"
