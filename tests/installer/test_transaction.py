"""The transaction engine: undo in reverse on failure, commits only on success."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from installer.console import Console
from installer.errors import RollbackError, StepError
from installer.transaction import Done, Step, Transaction


class MakeFile(Step):
    """Creates a file; its undo removes it; its commit writes a marker."""

    read_only = False

    def __init__(self, name: str, path: Path, log: list[str], fail: bool = False) -> None:
        self.name = name
        self.path = path
        self.log = log
        self.fail = fail

    @property
    def title(self) -> str:
        return f"make {self.path.name}"

    def plan(self) -> str:
        return f"create {self.path}"

    def run(self) -> Done:
        if self.fail:
            raise OSError(13, "Permission denied", str(self.path))
        self.path.write_text(self.name)
        self.log.append(f"do {self.name}")

        def undo() -> None:
            self.path.unlink()
            self.log.append(f"undo {self.name}")

        def commit() -> None:
            self.log.append(f"commit {self.name}")

        return Done(undo=undo, commit=commit)


def _steps(tmp_path: Path, log: list[str], fail: str = "") -> list[Step]:
    return [MakeFile(n, tmp_path / n, log, fail=(n == fail)) for n in ("a", "b", "c")]


def test_success_commits_every_step_in_order(tmp_path: Path) -> None:
    log: list[str] = []
    out = io.StringIO()
    Transaction(_steps(tmp_path, log), Console(out)).run()
    assert log == ["do a", "do b", "do c", "commit a", "commit b", "commit c"]
    assert "[1/3] make a" in out.getvalue() and "[3/3] make c" in out.getvalue()


def test_failure_undoes_earlier_steps_in_reverse_and_names_the_step(tmp_path: Path) -> None:
    log: list[str] = []
    with pytest.raises(StepError) as info:
        Transaction(_steps(tmp_path, log, fail="c"), Console(io.StringIO())).run()
    assert log == ["do a", "do b", "undo b", "undo a"]
    assert info.value.step == "c" and "Permission denied" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_fail_at_undoes_the_named_step_too(tmp_path: Path) -> None:
    log: list[str] = []
    with pytest.raises(StepError, match="injected after step 'b'"):
        Transaction(_steps(tmp_path, log), Console(io.StringIO()), fail_at="b").run()
    assert log == ["do a", "do b", "undo b", "undo a"]


def test_unknown_fail_at_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StepError, match="no such step"):
        Transaction(_steps(tmp_path, []), Console(io.StringIO()), fail_at="nope")


class BrokenUndo(MakeFile):
    def run(self) -> Done:
        self.log.append(f"do {self.name}")

        def undo() -> None:
            raise OSError("disk on fire")

        return Done(undo=undo)


def test_an_undo_that_fails_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    log: list[str] = []
    steps: list[Step] = [
        MakeFile("a", tmp_path / "a", log),
        BrokenUndo("b", tmp_path / "b", log),
        MakeFile("c", tmp_path / "c", log, fail=True),
    ]
    with pytest.raises(RollbackError) as info:
        Transaction(steps, Console(io.StringIO())).run()
    assert log == ["do a", "do b", "undo a"]
    assert info.value.leftovers == ("b: disk on fire",)
    assert "remove these by hand" in str(info.value)


def test_dry_run_plans_without_running(tmp_path: Path) -> None:
    log: list[str] = []
    out = io.StringIO()
    Transaction(_steps(tmp_path, log), Console(out)).dry_run()
    assert log == [] and list(tmp_path.iterdir()) == []
    assert f"would create {tmp_path / 'b'}" in out.getvalue()
