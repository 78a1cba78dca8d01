"""Install steps that prepare the machine: checks, an earlier install, account, dirs, venv.

See :mod:`installer.install_steps` for the order and what each step undoes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography import x509

from installer import (
    account,
    agent_config,
    background,
    checks,
    files,
    layout,
    manifest,
    systemd,
)
from installer import venv as venvs
from installer.context import RunStep
from installer.errors import UsageError
from installer.transaction import Done


class PythonStep(RunStep):
    name = "python"
    read_only = True
    title = "Checking the Python version"

    def plan(self) -> str:
        return "check the Python version"

    def run(self) -> Done:
        return Done(note=checks.check_python())


class ReachStep(RunStep):
    name = "reach"
    read_only = True

    @property
    def title(self) -> str:
        return f"Checking outbound TCP to the hub {self.run_ctx.options.hub}"

    def plan(self) -> str:
        return f"connect to {self.run_ctx.options.hub}"

    def run(self) -> Done:
        o = self.run_ctx.options
        return Done(note=checks.check_reach(o.hub, o.reach_timeout))


def _cert_valid(cert: Path, now: datetime) -> datetime | None:
    """The certificate's expiry if it can be read and is valid now, else None."""
    try:
        c = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return None
    return c.not_valid_after_utc if c.not_valid_before_utc <= now < c.not_valid_after_utc else None


class ExistingStep(RunStep):
    """Decides fresh install vs upgrade and refuses what would overwrite foreign files."""

    name = "existing"
    read_only = True
    title = "Looking for an existing install"

    def plan(self) -> str:
        return "look for an existing install"

    def run(self) -> Done:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        if o.service == "systemd":
            if not account.is_root():
                raise UsageError(
                    "--service systemd needs root (it creates the service account and writes "
                    f"{lay.unit_dir}): run it with sudo, or use --service none to run the agent "
                    "as a background process of your own account"
                )
            systemd.check_paths([lay.prefix, lay.config_dir, lay.state_dir, lay.unit_dir])
        notes = []
        if r.previous is not None:
            p = r.previous
            for what, mine, theirs in (
                ("--config-dir", lay.config_dir, Path(p.config_dir)),
                ("--state-dir", lay.state_dir, Path(p.state_dir)),
            ):
                if mine != theirs:
                    raise UsageError(
                        f"the install in {lay.prefix} uses {what} {theirs}: run again with "
                        f"{what} {theirs}, or uninstall it first (iplat-install uninstall "
                        f"--prefix {lay.prefix})"
                    )
            if p.service != o.service:
                raise UsageError(
                    f"the install in {lay.prefix} runs with --service {p.service}: run again "
                    f"with --service {p.service}, or uninstall it first"
                )
            if p.hub and p.hub != str(o.hub):
                raise UsageError(
                    f"the install in {lay.prefix} syncs with hub {p.hub}, not {o.hub}: to move "
                    "this center to another hub, uninstall first (keeping nothing), then install"
                )
            state = "complete" if p.complete else "INCOMPLETE (an earlier run was interrupted)"
            notes.append(
                f"found an install in {lay.prefix} ({state}, agent {p.agent_version or '?'}, "
                f"installed {p.installed_at or '?'}): upgrading it; key, state and agent.toml "
                "are kept"
            )
        else:
            if lay.prefix.exists() and any(lay.prefix.iterdir()):
                raise UsageError(
                    f"{lay.prefix} exists, is not empty and holds no install manifest "
                    f"({layout.MANIFEST_NAME}): choose an empty or new --prefix"
                )
            if lay.state_dir.exists():
                foreign = sorted(
                    p.name
                    for p in lay.state_dir.iterdir()
                    if p.name not in layout.STATE_NAMES + layout.RUN_NAMES
                )
                if foreign:
                    raise UsageError(
                        f"{lay.state_dir} holds files that are not an agent's state "
                        f"({', '.join(foreign[:5])}): choose another --state-dir"
                    )
                if any(lay.state_dir.iterdir()):
                    notes.append(f"taking over the agent state kept in {lay.state_dir}")
            notes.append("no earlier install: installing")
        if lay.config_file.exists() and not (r.previous and r.previous.created(lay.config_file)):
            existing = agent_config.read(lay.config_file)
            if not agent_config.matches_layout(existing, lay):
                raise UsageError(
                    f"{lay.config_file} exists and was not written by this installer: move it "
                    "away and run again (then copy your [[sources]] into the new agent.toml), "
                    f'or set in it state_path = "{lay.state_db}" and key/cert/ca in [tls] to '
                    f"{lay.tls_dir}/agent.key, agent.crt and ca.pem. Other files in "
                    f"{lay.config_dir} (your CSV sources) are never touched"
                )
            notes.append(f"using the existing {lay.config_file} (it points at {lay.state_dir})")
        expires = _cert_valid(lay.cert, r.clock())
        r.needs_enrollment = not (lay.config_file.exists() and lay.key.exists() and expires)
        if r.needs_enrollment:
            missing = [
                n
                for n, v in (("--token", o.token), ("--ca-fingerprint", o.ca_fingerprint))
                if not v
            ]
            if missing:
                why = "no valid certificate in " + str(lay.tls_dir) if r.previous else "enrolling"
                raise UsageError(
                    f"{' and '.join(missing)} needed ({why}): ask the hub operator for a token "
                    "(iplat-hub token create --center ID prints the token and the CA fingerprint)"
                )
        elif expires is not None:
            notes.append(f"keeping the enrollment: certificate valid until {expires:%Y-%m-%d}")
            if o.token:
                notes.append("--token not used (the center is enrolled already); it stays valid")
        return Done(note="\n".join(notes))


class StopStep(RunStep):
    name = "stop"
    title = "Stopping the agent being upgraded"

    def plan(self) -> str:
        return "stop the running agent of the existing install (if any)"

    def run(self) -> Done:
        r, lay = self.run_ctx, self.run_ctx.layout
        if r.previous is None:
            return Done(note="nothing to stop")
        if r.previous.service == "systemd":
            if not (systemd.running() and systemd.is_active(layout.UNIT_NAME)):
                return Done(note="the service is not running")
            systemd.systemctl("stop", layout.UNIT_NAME, step=self.name)
            return Done(
                undo=lambda: systemd.systemctl("start", layout.UNIT_NAME, step=self.name),
                note=f"stopped {layout.UNIT_NAME}",
            )
        pid = background.running_pid(lay.pid_file, lay.agent_exe)
        if pid is None:
            return Done(note="the agent is not running")
        background.stop(pid)
        argv = [str(lay.agent_exe), "run", "--config", str(lay.config_file)]

        def restart() -> None:
            background.start(argv, lay.log_file, lay.pid_file, lay.state_dir)

        return Done(undo=restart, note=f"stopped the agent (pid {pid})")


class UserStep(RunStep):
    name = "user"

    @property
    def title(self) -> str:
        return f"Service account {self.run_ctx.options.service_user}"

    def plan(self) -> str:
        o = self.run_ctx.options
        if o.service != "systemd":
            return "nothing: with --service none the agent runs as the installing user"
        return f"create the system account {o.service_user} unless it exists"

    def run(self) -> Done:
        r, o = self.run_ctx, self.run_ctx.options
        if o.service != "systemd":
            if account.is_root():
                r.notes.append(
                    "the agent runs as root: --service systemd would run it as an "
                    "unprivileged account in a hardened unit"
                )
            return Done(note="not needed: with --service none the agent runs as you")
        found = account.lookup(o.service_user)
        if found is not None:
            r.account = found
            r.manifest = replace(r.manifest, service_user=o.service_user)
            return Done(note=f"using the existing account {o.service_user} (uid {found.uid})")
        r.account = account.create(o.service_user, r.layout.state_dir)
        r.manifest = replace(r.manifest, service_user=o.service_user, user_created=True)

        def undo() -> None:
            account.delete(o.service_user)
            r.account = None

        return Done(undo=undo, note=f"created the system account {o.service_user}")


class DirsStep(RunStep):
    name = "dirs"
    title = "Creating the directories"

    def plan(self) -> str:
        lay = self.run_ctx.layout
        return f"create {lay.prefix}, {lay.config_dir}, {lay.state_dir} (where missing)"

    def run(self) -> Done:
        r, lay = self.run_ctx, self.run_ctx.layout
        acct = r.account
        made: list[Path] = []
        try:
            for path, mode in (
                (lay.prefix, 0o755),
                (lay.config_dir, 0o750 if acct else 0o755),
                (lay.state_dir, 0o750 if acct else 0o700),
                (lay.tls_dir, 0o700),
            ):
                made += files.make_dirs(path, mode)
            if acct is not None:
                if lay.config_dir in made:
                    os.chown(lay.config_dir, 0, acct.gid)
                account.chown_tree(lay.state_dir, acct)
        except BaseException:
            for path in reversed(made):
                files.remove(path)
            raise
        # State kept by `uninstall --keep-state` is taken over with the dirs it was in.
        adopted = manifest.load_kept(lay.state_dir) if r.previous is None else ()
        for path in (*map(Path, adopted), *made):
            r.manifest = r.manifest.with_dir(path)
        r.manifest_live = True
        previous = r.previous

        def undo() -> None:
            r.manifest_live = False
            if previous is not None:
                manifest.save(lay.manifest, previous)
            else:
                lay.manifest.unlink(missing_ok=True)
            for path in reversed(made):
                files.remove(path)

        def commit() -> None:
            (lay.state_dir / layout.KEPT_NAME).unlink(missing_ok=True)

        made_note = ", ".join(map(str, made)) if made else "all existed"
        return Done(undo=undo, commit=commit, note=f"created: {made_note}")


class VenvStep(RunStep):
    name = "venv"

    @property
    def title(self) -> str:
        return f"Installing the agent into {self.run_ctx.layout.venv}"

    def plan(self) -> str:
        o = self.run_ctx.options
        src = f" from {o.wheelhouse}" if o.wheelhouse else ""
        return f"create {o.layout.venv} and pip install {o.package}{src}"

    def run(self) -> Done:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        kept_aside = False
        if lay.venv.exists():
            if lay.venv_previous.exists():
                files.remove(lay.venv_previous)  # left by an interrupted run
            os.replace(lay.venv, lay.venv_previous)
            kept_aside = True
        elif lay.venv_previous.exists():
            kept_aside = True  # an interrupted run moved it aside: it is the previous venv

        def undo() -> None:
            files.remove(lay.venv)
            if kept_aside:
                os.replace(lay.venv_previous, lay.venv)

        try:
            venvs.create(lay.venv, o.site_deps)
            venvs.install_package(
                lay.venv, o.package, wheelhouse=o.wheelhouse, test_deps=o.site_deps
            )
            r.agent_version = venvs.agent_version(lay.venv)
        except BaseException:
            undo()
            raise
        r.manifest = replace(r.manifest, package=o.package, agent_version=r.agent_version)

        def commit() -> None:
            files.remove(lay.venv_previous)

        return Done(
            undo=undo, commit=commit, note=f"iplat-agent {r.agent_version} from {o.package}"
        )
