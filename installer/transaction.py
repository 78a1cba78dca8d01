"""Installs as transactions: each step does its work and hands back how to undo it.

A step's :meth:`Step.run` returns a :class:`Done` with an ``undo`` (restore what the step
changed) and a ``commit`` (drop what it kept only for the undo, e.g. the previous venv).
When step k fails, its own partial work is its own business (it cleans up before
raising); steps k-1 .. 1 are undone in reverse order. Only when every step succeeded are the
commits run. An undo never removes anything the step did not create.

``fail_at`` (the hidden ``--fail-at STEP`` option) makes the transaction fail right after
the named step succeeded, so tests can check that every step's undo leaves nothing behind.

In a dry run, read-only steps (checks) run and the others only print what they would do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from installer.console import Console
from installer.errors import InstallerError, RollbackError, StepError

Action = Callable[[], None]


@dataclass(frozen=True)
class Done:
    """What a step did: how to undo it and how to make it final."""

    undo: Action | None = None
    commit: Action | None = None
    note: str = ""
    """Shown under the step's progress line."""


NOTHING = Done()


class Step(ABC):
    name: str = ""
    """Stable id, accepted by --fail-at."""
    read_only: bool = False
    """Changes nothing: runs in a dry run too."""

    @property
    @abstractmethod
    def title(self) -> str:
        """The progress line."""

    @abstractmethod
    def plan(self) -> str:
        """What the step would do (a dry run prints it); reads but never changes anything."""

    @abstractmethod
    def run(self) -> Done:
        """Do the step; raise an InstallerError naming the problem and the fix."""


def _as_installer_error(step: Step, exc: Exception) -> InstallerError:
    if isinstance(exc, InstallerError):
        return exc
    # OSError is what the machine says (permissions, disk full): name the step it broke.
    return StepError(f"{step.title}: {exc}; fix this and run the installer again", step.name)


class Transaction:
    def __init__(
        self,
        steps: Sequence[Step],
        console: Console,
        *,
        fail_at: str | None = None,
        after_step: Action | None = None,
    ) -> None:
        names = [s.name for s in steps]
        if fail_at is not None and fail_at not in names:
            raise StepError(f"--fail-at {fail_at!r}: no such step; steps are {', '.join(names)}")
        self._steps = tuple(steps)
        self._console = console
        self._fail_at = fail_at
        self._after_step = after_step

    def dry_run(self) -> None:
        total = len(self._steps)
        for index, step in enumerate(self._steps, 1):
            self._console.step(index, total, step.title)
            if step.read_only:
                done = step.run()
                if done.note:
                    self._console.detail(done.note)
            else:
                self._console.detail(f"would {step.plan()}")

    def run(self) -> None:
        done: list[tuple[Step, Done]] = []
        total = len(self._steps)
        for index, step in enumerate(self._steps, 1):
            self._console.step(index, total, step.title)
            try:
                result = step.run()
                done.append((step, result))
                if result.note:
                    self._console.detail(result.note)
                if self._after_step is not None:
                    self._after_step()
                if step.name == self._fail_at:
                    raise StepError(
                        f"failure injected after step {step.name!r} (--fail-at)", step.name
                    )
            except Exception as exc:
                error = _as_installer_error(step, exc)
                self._rollback(done, error)
                if error is exc:
                    raise
                raise error from exc
            except BaseException as exc:  # Ctrl-C: undo, then let it end the program
                self._rollback(done, exc)
                raise
        for step, result in done:
            if result.commit is not None:
                try:
                    result.commit()
                except OSError as exc:
                    # The install stands; only a leftover of the undo information remains.
                    self._console.warn(f"{step.name}: could not clean up after the step: {exc}")

    def _rollback(self, done: list[tuple[Step, Done]], cause: BaseException) -> None:
        undoable = [(s, d) for s, d in done if d.undo is not None]
        if not undoable:
            return
        self._console.line(f"rolling back {len(undoable)} step(s)")
        leftovers: list[str] = []
        for step, result in reversed(undoable):
            assert result.undo is not None
            self._console.detail(f"undo {step.name}")
            try:
                result.undo()
            # Keep undoing the others (a second Ctrl-C included): a half rollback is the
            # worst state to leave; every leftover is reported.
            except BaseException as exc:
                leftovers.append(f"{step.name}: {exc!r}" if not str(exc) else f"{step.name}: {exc}")
        if leftovers:
            listed = "\n  ".join(leftovers)
            raise RollbackError(
                f"{cause}\nthe rollback did not finish; remove these by hand:\n  {listed}",
                cause,
                tuple(leftovers),
            ) from cause
        self._console.detail("rolled back: everything this run had done was undone")
