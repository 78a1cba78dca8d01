"""A real Prometheus server (Debian's ``prometheus``) scrapes a running hub and evaluates
the sample rules of deploy/prometheus/alerts.yml: the stale-center alert fires for a
center whose agent stopped.

The rules' ``for:`` durations are cut to 1 s in the test's copy (the shipped durations are
minutes; promtool unit-tests them in deploy/prometheus/alerts_test.yml). Skips locally
without Prometheus; fails in CI (CI=true).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.helpers.agentenv import running_agent
from tests.helpers.hubenv import running_hub
from tests.helpers.opsenv import (
    REPO,
    fast_agent,
    fast_hub,
    prom_alerts,
    prom_query,
    prometheus,
    require,
    rules_for_test,
    status_of,
)
from tests.helpers.portal import http_address
from tests.helpers.wait import eventually

STOPS, RUNS = "KR-EE-0301", "KR-BI-0302"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"


def test_stale_center_alert_fires_for_a_stopped_agent(tmp_path: Path) -> None:
    require("Prometheus", shutil.which("prometheus") is not None, "apt-get install prometheus")
    rules = rules_for_test(ALERTS, tmp_path / "alerts.yml")
    with running_hub(fast_hub(tmp_path / "hub")) as hub:
        stops = fast_agent(hub, tmp_path / "stops", STOPS)
        runs = fast_agent(hub, tmp_path / "runs", RUNS)
        with (
            running_agent(stops) as agent,
            running_agent(runs),
            prometheus(tmp_path / "prometheus", http_address(hub), rules) as prom,
        ):
            for c in (STOPS, RUNS):
                eventually(lambda c=c: status_of(hub, c)["state"] == "online", timeout=20)

            def scraped() -> set[str]:
                """Jobs of the centers Prometheus sees online, once it sees both."""
                up = prom_query(prom, "iplat_center_up == 1")
                if {r["metric"]["center"] for r in up} < {STOPS, RUNS}:
                    return set()
                return {r["metric"]["job"] for r in up}

            assert eventually(scraped, timeout=20, interval=0.2) == {"iplat-hub"}
            names = [a["labels"]["alertname"] for a in prom_alerts(prom)]
            assert "IplatCenterStale" not in names
            agent.stop()

            def stale_alert() -> list[dict[str, Any]]:
                return [
                    a
                    for a in prom_alerts(prom)
                    if a["labels"]["alertname"] == "IplatCenterStale" and a["state"] == "firing"
                ]

            firing = eventually(stale_alert, timeout=30, interval=0.2, what="IplatCenterStale")
            assert [a["labels"]["center"] for a in firing] == [STOPS]
            alert = firing[0]
            assert alert["labels"]["severity"] == "warning"
            assert f"iplat-hub status --center {STOPS}" in alert["annotations"]["description"]
