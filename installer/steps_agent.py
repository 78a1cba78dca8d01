"""Install steps that set up and start the agent: enroll, clock, config, check, unit, start,
first sync, and the final manifest.

See :mod:`installer.install_steps` for the order and what each step undoes.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from installer import (
    account,
    agent_config,
    agentctl,
    background,
    checks,
    files,
    layout,
    systemd,
)
from installer.context import RunStep
from installer.errors import FirstSyncError, StepError
from installer.transaction import Done

# `iplat-agent status` costs ~0.5 s of CPU (imports); twice a second is plenty.
_POLL_SECONDS = 0.5


class EnrollStep(RunStep):
    name = "enroll"
    title = "Enrolling with the hub"

    def plan(self) -> str:
        if not self.run_ctx.needs_enrollment:
            return "keep the existing key and certificate"
        return "run iplat-agent enroll with the token (writes a key and certificate)"

    def run(self) -> Done:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        if not r.needs_enrollment:
            return Done(note=f"kept the key and certificate in {lay.tls_dir}")
        assert o.token and o.ca_fingerprint  # ExistingStep refused otherwise
        staging = Path(tempfile.mkdtemp(prefix=".enroll-", dir=lay.state_dir))
        token_file = staging / "token"
        center = agent_config.read(lay.config_file).center_id if lay.config_file.exists() else None
        try:
            # A file, not an argument: other users can read a process's arguments.
            files.write_atomic(token_file, o.token.encode(), mode=0o600)
            out = agentctl.enroll(
                lay.agent_exe,
                hub=str(o.hub),
                token_file=token_file,
                ca_fingerprint=o.ca_fingerprint,
                directory=staging / "agent",
                center=center,
            )
        except BaseException:
            files.remove(staging)
            raise
        finally:
            token_file.unlink(missing_ok=True)
        r.enrolled_at = r.clock()
        r.staging = staging
        r.center_id = agent_config.read(staging / "agent" / layout.CONFIG_NAME).center_id

        def undo() -> None:
            files.remove(staging)
            r.staging = None
            r.console.detail(
                "the token is used up: ask the hub operator for a new one "
                f"(iplat-hub token create --center {r.center_id}) before running again"
            )

        def commit() -> None:
            files.remove(staging)

        first = out.strip().splitlines()[0] if out.strip() else "enrolled"
        return Done(undo=undo, commit=commit, note=first)


class ClockStep(RunStep):
    name = "clock"
    title = "Comparing this machine's clock with the hub's"

    def plan(self) -> str:
        return "compare the new certificate's start time (set by the hub's clock) with ours"

    def run(self) -> Done:
        r = self.run_ctx
        if r.staging is None or r.enrolled_at is None:
            return Done(note="not measured: the certificate was issued in an earlier run")
        not_before = checks.cert_not_before(r.staging / "agent" / layout.TLS_FILES[1])
        note = checks.check_skew(checks.clock_skew(not_before, r.enrolled_at))
        if note.startswith("WARNING"):
            r.notes.append(note)
        return Done(note=note)


class ConfigStep(RunStep):
    name = "config"

    @property
    def title(self) -> str:
        return f"Writing the configuration into {self.run_ctx.layout.config_dir}"

    def plan(self) -> str:
        lay = self.run_ctx.layout
        return (
            f"move the key and certificates into {lay.tls_dir}; write {lay.config_file} "
            f"(state_path and [tls] in {lay.state_dir}) and CSV templates, where absent"
        )

    def run(self) -> Done:
        r, lay = self.run_ctx, self.run_ctx.layout
        acct = r.account
        undos: list[tuple[str, Path]] = []  # ("created"|"backup", path), in order done
        backups: list[Path] = []

        def undo() -> None:
            for kind, path in reversed(undos):
                if kind == "created":
                    path.unlink(missing_ok=True)
                    r.manifest = r.manifest.without_config_file(path)
                else:  # a certificate file replaced: put the old one back
                    os.replace(path, path.with_name(path.name.removesuffix(".previous")))

        try:
            notes = []
            if r.staging is not None:
                staged = r.staging / "agent"
                for name in layout.TLS_FILES:
                    target = lay.tls_dir / name
                    if target.exists():
                        backup = target.with_name(name + ".previous")
                        os.replace(target, backup)
                        undos.append(("backup", backup))
                        backups.append(backup)
                    files.move(staged / name, target)
                    undos.append(("created", target))
                os.chmod(lay.key, 0o600)
                if acct is not None:
                    account.chown_tree(lay.tls_dir, acct)
                notes.append(f"key and certificates in {lay.tls_dir}")
                if not lay.config_file.exists():
                    text = (staged / layout.CONFIG_NAME).read_text(encoding="utf-8")
                    text = agent_config.point_at_state_dir(text, lay)
                    self._place(lay.config_file, text.encode("utf-8"), secret=True)
                    undos.append(("created", lay.config_file))
                    notes.append(f"wrote {lay.config_file}")
                for template in sorted(staged.glob("*.csv")):
                    target = lay.config_dir / template.name
                    if target.exists():
                        notes.append(f"kept {target} (yours)")
                        continue
                    self._place(target, template.read_bytes(), secret=False)
                    undos.append(("created", target))
                    notes.append(
                        f"wrote {target} (a template: fill it, or point agent.toml elsewhere)"
                    )
            r.center_id = agent_config.read(lay.config_file).center_id
        except BaseException:
            undo()
            raise

        def commit() -> None:
            for backup in backups:
                backup.unlink(missing_ok=True)

        return Done(undo=undo, commit=commit, note="\n".join(notes) or "kept the configuration")

    def _place(self, path: Path, data: bytes, *, secret: bool) -> None:
        """Write a config file; agent.toml may hold passwords: root and the service group only."""
        r = self.run_ctx
        acct = r.account
        files.write_atomic(path, data, mode=0o640 if secret and acct else 0o644)
        if acct is not None and secret:
            os.chown(path, 0, acct.gid)
        r.manifest = r.manifest.with_config_file(path, files.sha256(path))


class CheckStep(RunStep):
    name = "check"
    title = "Checking the sources and certificates (iplat-agent check)"

    def plan(self) -> str:
        return f"run iplat-agent check --config {self.run_ctx.layout.config_file}"

    def run(self) -> Done:
        r = self.run_ctx
        return Done(note=agentctl.check(r.layout.agent_exe, r.layout.config_file, r.run_as))


class UnitStep(RunStep):
    name = "unit"

    @property
    def title(self) -> str:
        o = self.run_ctx.options
        return f"Writing the systemd unit {o.layout.unit_path(o.service)}"

    def plan(self) -> str:
        o = self.run_ctx.options
        ref = " (a reference copy: --service none)" if o.service == "none" else ""
        return f"write and validate {o.layout.unit_path(o.service)}{ref}"

    def spec(self) -> systemd.UnitSpec:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        return systemd.UnitSpec(
            agent_exe=lay.agent_exe,
            config_file=lay.config_file,
            state_dir=lay.state_dir,
            user=o.service_user,
            group=r.account.group if r.account else o.service_user,
            center_id=r.center_id,
            systemd_version=systemd.version(),
        )

    def run(self) -> Done:
        r, o = self.run_ctx, self.run_ctx.options
        path = o.layout.unit_path(o.service)
        spec = self.spec()
        text = systemd.render(spec)
        previous = path.read_bytes() if path.exists() else None
        reload = o.service == "systemd" and systemd.running()

        made = files.make_dirs(path.parent, 0o755)

        def undo() -> None:
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                files.write_atomic(path, previous)
            for d in reversed(made):
                files.rmdir_if_empty(d)
                r.manifest = r.manifest.without_dir(d)
            if reload:
                systemd.systemctl("daemon-reload", step=self.name)

        files.write_atomic(path, text.encode())
        r.manifest = replace(r.manifest, unit_path=str(path))
        for d in made:
            r.manifest = r.manifest.with_dir(d)
        try:
            found = systemd.problems(path.read_text(), spec)
            if found:
                raise StepError(f"the unit {path} is not right: " + "; ".join(found), self.name)
            verified = systemd.analyze_verify(path)
        except BaseException:
            undo()
            raise
        how = (
            "systemd-analyze verify: ok"
            if verified is not None
            else "systemd-analyze not installed: checked the unit's settings only"
        )
        return Done(undo=undo, note=f"hardened unit written; {how}")


class StartStep(RunStep):
    name = "start"
    title = "Starting the agent"

    def plan(self) -> str:
        o = self.run_ctx.options
        if o.service == "systemd":
            return f"systemctl daemon-reload; systemctl enable {layout.UNIT_NAME}; restart it"
        return f"start iplat-agent run in the background (pid file {o.layout.pid_file})"

    def run(self) -> Done:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        if o.service == "systemd":
            return self._systemd()
        argv = [str(lay.agent_exe), "run", "--config", str(lay.config_file)]
        r.started_at = time.time()
        r.pid = background.start(argv, lay.log_file, lay.pid_file, lay.state_dir)
        r.started = True
        pid = r.pid

        def undo() -> None:
            background.stop(pid)
            lay.pid_file.unlink(missing_ok=True)
            r.started = False

        return Done(undo=undo, note=f"running in the background, pid {pid}, log {lay.log_file}")

    def _systemd(self) -> Done:
        r = self.run_ctx
        unit = layout.UNIT_NAME
        if not systemd.running():
            msg = (
                "systemd is not running on this machine, so the service was NOT started. "
                f"Once it runs: systemctl daemon-reload && systemctl enable --now {unit}"
            )
            r.notes.append(msg)
            return Done(note=f"WARNING: {msg}")
        was_enabled = r.previous is not None
        systemd.systemctl("daemon-reload", step=self.name)
        systemd.systemctl("enable", unit, step=self.name)
        r.started_at = time.time()
        systemd.systemctl("restart", unit, step=self.name)
        r.started = True

        def undo() -> None:
            systemd.systemctl("stop", unit, step=self.name)
            if not was_enabled:
                systemd.systemctl("disable", unit, step=self.name)
            r.started = False

        return Done(undo=undo, note=f"enabled and started {unit}")


class SyncStep(RunStep):
    name = "sync"
    title = "Waiting for the first acknowledged sync"

    def plan(self) -> str:
        return f"wait up to {self.run_ctx.options.wait_seconds:.0f} s for the first sync"

    def run(self) -> Done:
        r, o, lay = self.run_ctx, self.run_ctx.options, self.run_ctx.layout
        if not r.started:
            return Done(note="skipped: the agent was not started")
        if o.wait_seconds <= 0:
            return Done(note="skipped (--wait 0)")
        logs = (
            f"the log {lay.log_file}"
            if o.service == "none"
            else f"journalctl -u {layout.UNIT_NAME}"
        )
        deadline = time.monotonic() + o.wait_seconds
        progress = agentctl.first_sync(None, r.started_at)
        while time.monotonic() < deadline:
            # Until the agent made its state database, status has nothing to say: skip the
            # (CPU-heavy) status process, which would only slow the agent's own start.
            if lay.state_db.exists():
                report = agentctl.status(lay.agent_exe, lay.config_file, r.run_as)
                progress = agentctl.first_sync(report, r.started_at)
            if progress.done:
                return Done(note=progress.summary)
            if o.service == "systemd" and not systemd.is_active(layout.UNIT_NAME):
                raise FirstSyncError(
                    f"the service {layout.UNIT_NAME} stopped right after it started: see "
                    f"journalctl -u {layout.UNIT_NAME} for why, fix it and run the installer again",
                    self.name,
                )
            if r.pid is not None and not background.alive(r.pid):
                tail = (
                    lay.log_file.read_text(errors="replace")[-2000:]
                    if lay.log_file.exists()
                    else ""
                )
                raise FirstSyncError(
                    f"the agent stopped right after it started; the end of {lay.log_file}:\n"
                    f"{tail.strip()}\nfix what it says and run the installer again",
                    self.name,
                )
            r.console.dot()
            time.sleep(_POLL_SECONDS)
        raise FirstSyncError(
            f"no acknowledged sync with the hub {o.hub} within {o.wait_seconds:g} s: "
            f"{progress.summary}. Check that outbound TCP to {o.hub} is open in the firewall, "
            f"read {logs}, and see {lay.agent_exe} status --config {lay.config_file}",
            self.name,
        )


class FinishStep(RunStep):
    name = "finish"
    title = "Recording the install"

    def plan(self) -> str:
        return f"write the install manifest {self.run_ctx.layout.manifest}"

    def run(self) -> Done:
        r = self.run_ctx
        m = r.manifest
        # Hashes as committed: a file that differs at uninstall was changed by someone.
        for f in m.config_files:
            if Path(f.path).exists():
                m = m.with_config_file(Path(f.path), files.sha256(Path(f.path)))
        r.manifest = replace(
            m,
            complete=True,
            center_id=r.center_id,
            installed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        return Done(note=f"{r.layout.manifest}")
