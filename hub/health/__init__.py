"""Operator health: each center's state and problems, with what to do about them.

::

    report = assess_fleet(store.center_statuses(now), now, cfg.sync, cfg.ops)
    for center in report.centers:            # worst first
        center.state, center.problems        # "offline", (Problem(...), ...)

Modules: ``states`` (online/stale/offline/missing... from each agent's heartbeat interval),
``problems`` (the rules, in English and Korean), ``report`` (a center's and the fleet's
health and their JSON), ``fleet`` (the serving hub's cached read), ``session`` (commit lag
and sync summaries measured on a Sync stream). Users: ``iplat-hub status``
(:mod:`hub.cli_status`), ``/metrics`` (:mod:`hub.metrics`), the dashboard
(:mod:`hub.http.dashboard`), ``center list``.
"""

from __future__ import annotations

from hub.health.problems import SEVERITIES, Problem, Text
from hub.health.report import CenterHealth, FleetReport, assess, assess_fleet, problem_json
from hub.health.states import LIVE_STATES, STATES, Thresholds, center_state, thresholds

__all__ = [
    "LIVE_STATES",
    "SEVERITIES",
    "STATES",
    "CenterHealth",
    "FleetReport",
    "Problem",
    "Text",
    "Thresholds",
    "assess",
    "assess_fleet",
    "center_state",
    "problem_json",
    "thresholds",
]
