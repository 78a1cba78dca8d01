from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.helpers.e2e import Procs

LOG_TAIL_LINES = 40
_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


def _tail(path: Path) -> str:
    if not path.exists():
        return f"({path} missing)"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


@pytest.fixture
def procs(request: pytest.FixtureRequest) -> Iterator[Procs]:
    """Processes and proxies of one test, all gone when it ends (pass or fail). When the
    test failed, the end of every hub and agent log is printed: a fault test's failure is
    rarely understood from the assertion alone."""
    started = Procs()
    try:
        yield started
    finally:
        started.close()
        if request.node.stash.get(_FAILED, False):
            logs = {p.log_path for p in started.hubs} | {a.log_path for a in started.agents}
            for path in sorted(logs):
                print(f"\n----- {path} (last {LOG_TAIL_LINES} lines) -----\n{_tail(path)}")
