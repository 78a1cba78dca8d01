"""Operator-health test helpers: a hub with short liveness thresholds, its status and
metrics, system tools that must run in CI, and a real Prometheus server.

::

    data_dir = fast_hub(tmp_path / "hub")              # 1 s heartbeats, offline after 5.5 s
    with running_hub(data_dir) as hub:
        status_of(hub, "KR-EE-0001")                    # iplat-hub status --json, one center
        metrics_text(hub)                               # GET /metrics
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agentenv import AgentDir, calendar_row, equipment_row, make_agent_dir
from tests.helpers.hubenv import RunningHub, init_hub, run_cli
from tests.helpers.portal import http_address
from tests.helpers.wait import eventually

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

HEARTBEAT = 1
GRACE = 0.5
STALE_AFTER = 2 * HEARTBEAT + GRACE  # stale_after_heartbeats = 2
OFFLINE_AFTER = 5 * HEARTBEAT + GRACE  # offline_after_heartbeats = 5
FAST_HUB: dict[str, object] = {
    "heartbeat_seconds": HEARTBEAT,
    # Far from OFFLINE_AFTER: the states must come from the heartbeat interval, not this.
    "stale_after_seconds": 10,
    "grace_seconds": GRACE,
    "stale_after_heartbeats": 2,
    "offline_after_heartbeats": 5,
    "refresh_seconds": 0.5,
    "cache_seconds": 0.2,
}


def fast_hub(data_dir: Path) -> Path:
    """A hub whose centers go stale 2.5 s and offline 5.5 s after their last message."""
    return init_hub(data_dir, settings=FAST_HUB)


def fast_agent(hub: RunningHub, directory: Path, center_id: str) -> AgentDir:
    """An agent dir for ``center_id`` heartbeating every second, with one piece of equipment
    and one booking."""
    ad = make_agent_dir(hub, directory, center_id, log_level="info")
    ad.set_sync(heartbeat_seconds=HEARTBEAT)
    ad.write_equipment([equipment_row("EQ-1")])
    ad.write_calendar([calendar_row("BK-1", "EQ-1", "2027-03-02T09:00", "2027-03-02T11:00")])
    return ad


def status(hub: RunningHub) -> dict[str, Any]:
    code, out = run_cli("status", "--json", "--data-dir", str(hub.data_dir))
    assert code == 0, out
    result: dict[str, Any] = json.loads(out)
    return result


def status_of(hub: RunningHub, center_id: str) -> dict[str, Any]:
    return next(c for c in status(hub)["centers"] if c["id"] == center_id)


def get(url: str, timeout: float = 5) -> bytes:
    """The body of a 200 answer; AssertionError naming the status otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection (a ResourceWarning if left to the collector)
        raise AssertionError(f"{url}: HTTP {exc.code}") from None


def metrics_text(hub: RunningHub) -> str:
    return get(f"http://{http_address(hub)}/metrics").decode()


def require(what: str, present: bool, install: str) -> None:
    """Skip when a system tool is missing, with how to get it; in CI (CI=true) fail instead:
    .ci/run installs it, so missing there is a broken CI, not a reason to skip."""
    if present:
        return
    message = f"{what} is not installed: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (.ci/run installs it; CI must run this test)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def freeze(pid: int) -> None:
    """SIGSTOP: the process keeps its connections open but says nothing."""
    os.kill(pid, signal.SIGSTOP)


def thaw(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


# -- Prometheus -------------------------------------------------------------------------------


def rules_for_test(source: Path, target: Path) -> Path:
    """``alerts.yml`` with every ``for:`` cut to 1 s, so a test sees alerts fire in seconds.
    The expressions, labels and annotations are the shipped ones; the real durations are
    unit-tested by deploy/prometheus/alerts_test.yml."""
    text = re.sub(r"(?m)^(\s+)for: \S+$", r"\1for: 1s", source.read_text())
    target.write_text(text)
    return target


@contextmanager
def prometheus(directory: Path, target: str, rules: Path) -> Iterator[str]:
    """A real Prometheus scraping ``target`` every second, evaluating ``rules``; yields
    its HOST:PORT. Storage lives in ``directory``; the process is killed at exit."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  evaluation_interval: 1s\n"
        f"rule_files: [{json.dumps(str(rules))}]\n"
        "scrape_configs:\n"
        "  - job_name: iplat-hub\n"
        f"    static_configs: [{{targets: [{json.dumps(target)}]}}]\n"
    )
    address = f"127.0.0.1:{free_port()}"
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address={address}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=log,
    )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(
                    f"prometheus exited: {(directory / 'prometheus.log').read_text()[-2000:]}"
                )
            return get(f"http://{address}/-/ready", timeout=1).startswith(b"Prometheus")

        eventually(ready, timeout=20, interval=0.1, what="prometheus ready")
        yield address
    finally:
        process.kill()
        process.wait()
        log.close()


def prom_query(address: str, query: str) -> list[dict[str, Any]]:
    url = f"http://{address}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    data = json.loads(get(url))
    assert data["status"] == "success", data
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def prom_alerts(address: str) -> list[dict[str, Any]]:
    data = json.loads(get(f"http://{address}/api/v1/alerts"))
    assert data["status"] == "success", data
    alerts: list[dict[str, Any]] = data["data"]["alerts"]
    return alerts
