"""The steps of ``iplat-install agent``, in order, each with its undo.

=========  ==================================================  ===========================
name       does                                                undo
=========  ==================================================  ===========================
python     checks the interpreter version                      (read-only)
reach      opens a TCP connection to the hub                   (read-only)
existing   finds an earlier install, refuses conflicts         (read-only)
stop       stops the agent of the install being upgraded       starts it again
user       creates the service account (systemd, root)         deletes it
dirs       creates PREFIX, CONFIG_DIR, STATE_DIR               removes the ones it created
venv       builds PREFIX/venv, installs the package            restores the previous venv
enroll     ``iplat-agent enroll`` into a staging dir           removes the staging dir
clock      compares the clock with the hub's                   (nothing to undo)
config     places certificates, agent.toml, CSV templates      removes/restores them
check      ``iplat-agent check`` as the service user           (nothing to undo)
unit       writes and validates the systemd unit               restores the previous unit
start      starts the service or the background process        stops it
sync       waits for the first acknowledged sync               (nothing to undo)
finish     marks the manifest complete                         (restored by ``dirs``)
=========  ==================================================  ===========================

A re-run keeps the key, certificate, state and agent.toml, installs the package into a
fresh venv (the old one is kept aside until the run commits), and rewrites the unit.
"""

from __future__ import annotations

from installer.context import InstallRun, RunStep
from installer.steps_agent import (
    CheckStep,
    ClockStep,
    ConfigStep,
    EnrollStep,
    FinishStep,
    StartStep,
    SyncStep,
    UnitStep,
)
from installer.steps_prepare import (
    DirsStep,
    ExistingStep,
    PythonStep,
    ReachStep,
    StopStep,
    UserStep,
    VenvStep,
)
from installer.transaction import Step

STEPS: tuple[type[RunStep], ...] = (
    PythonStep, ReachStep, ExistingStep, StopStep, UserStep, DirsStep, VenvStep, EnrollStep,
    ClockStep, ConfigStep, CheckStep, UnitStep, StartStep, SyncStep, FinishStep,
)  # fmt: skip
STEP_NAMES = tuple(c.name for c in STEPS)


def all_steps(run: InstallRun) -> list[Step]:
    return [cls(run) for cls in STEPS]
