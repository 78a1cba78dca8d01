"""/metrics: parses with prometheus_client's own parser, keeps its names (a golden list:
dashboards and deploy/prometheus/alerts.yml depend on them) and a bounded label set."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from hub.config import OpsSettings, SyncSettings
from hub.health import assess_fleet
from hub.metrics import HubMetrics, RoutingSnapshot
from hub.routing.model import ITEM_STATES
from tests.hub.test_health_states import NOW, status

# Every sample name /metrics exposes. Renaming one breaks users' dashboards and alerts:
# add new names, never change these.
GOLDEN_SAMPLE_NAMES = frozenset(
    {
        "iplat_hub_info",
        "iplat_sync_streams",
        "iplat_health_report_timestamp_seconds",
        "iplat_changes_applied_total",
        "iplat_changes_duplicate_total",
        "iplat_batches_total",
        "iplat_apply_seconds_bucket",
        "iplat_apply_seconds_count",
        "iplat_apply_seconds_sum",
        "iplat_store_errors_total",
        "iplat_center_up",
        "iplat_center_state",
        "iplat_center_connected",
        "iplat_center_last_seen_timestamp_seconds",
        "iplat_center_last_heartbeat_timestamp_seconds",
        "iplat_center_last_sync_timestamp_seconds",
        "iplat_center_heartbeat_interval_seconds",
        "iplat_center_hwm",
        "iplat_center_backlog_changes",
        "iplat_center_backlog_stalled_seconds",
        "iplat_center_commit_lag_seconds",
        "iplat_center_quarantined_deletes",
        "iplat_center_cert_expiry_timestamp_seconds",
        "iplat_center_last_reconcile_timestamp_seconds",
        "iplat_center_source_errors",
        "iplat_center_source_ok",
        "iplat_center_source_last_poll_timestamp_seconds",
        "iplat_center_problems",
        "iplat_center_info",
        "iplat_routing_items",
        "iplat_center_open_items",
    }
)
# Labels allowed beside center and industry: all bounded by configuration or enums.
CENTER_LABEL_SETS = {
    frozenset({"center", "industry"}),
    frozenset({"center", "industry", "state"}),
    frozenset({"center", "industry", "source"}),
    frozenset({"center", "industry", "severity"}),
    frozenset({"center", "industry", "agent_version"}),
}
HUB_LABEL_SETS = {
    frozenset(),
    frozenset({"result"}),
    frozenset({"version"}),
    frozenset({"le"}),
    frozenset({"state"}),  # iplat_routing_items: one of the seven item states
}

BROKEN = {
    "name": "calendar",
    "ok": False,
    "records": 4,
    "problems": 1,
    "first_problem": "calendar.csv:17: end before start",
    "last_poll": NOW - 3,
}


def fleet_metrics() -> str:
    """/metrics of a fleet where every per-center series has something to show."""
    busy = status(
        "KR-EE-0001",
        sources=[BROKEN, {**BROKEN, "name": "equipment", "ok": True, "problems": 0}],
        last_heartbeat_at=NOW - 1,
        commit_lag_seconds=0.4,
        backlog=40,
        backlog_since=NOW - 30,
        backlog_since_value=10,
        quarantined_deletes=3,
        last_reconcile={"round": 1, "upserts_queued": 0, "deletes_queued": 0},
        last_reconcile_at=NOW - 100,
    )
    silent = status("KR-BI-0002", last_seen=NOW - 3600, connected=False)
    report = assess_fleet([busy, silent], NOW, SyncSettings(), OpsSettings())
    metrics = HubMetrics(lambda: 1, "9.9.9")
    metrics.sync.batch_committed(5, 1, False, 0.003)
    metrics.sync.batch_committed(0, 0, True, 0.001)
    metrics.sync.batch_rejected()
    metrics.sync.store_error()
    routing = RoutingSnapshot({"routed": 2, "delivered": 1, "accepted": 4}, {"KR-EE-0001": 3})
    return metrics.render(report, routing).decode()


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def test_names_are_the_golden_list() -> None:
    names = {name for name, _, _ in samples(fleet_metrics())}
    missing, new = sorted(GOLDEN_SAMPLE_NAMES - names), sorted(names - GOLDEN_SAMPLE_NAMES)
    assert names == GOLDEN_SAMPLE_NAMES, f"missing: {missing}, new: {new}"


def test_labels_are_bounded_and_never_record_ids() -> None:
    for name, labels, _ in samples(fleet_metrics()):
        keys = frozenset(labels)
        allowed = CENTER_LABEL_SETS if name.startswith("iplat_center_") else HUB_LABEL_SETS
        assert keys in allowed, (name, labels)
        assert not any("EQ-" in v or "BK-" in v for v in labels.values()), (name, labels)


def test_values_follow_the_store_and_the_counters() -> None:
    got = {(n, tuple(sorted(labels.items()))): v for n, labels, v in samples(fleet_metrics())}
    ee = (("center", "KR-EE-0001"), ("industry", "machinery-robotics"))
    bi = (("center", "KR-BI-0002"), ("industry", "machinery-robotics"))
    assert got["iplat_center_up", ee] == 1 and got["iplat_center_up", bi] == 0
    assert got["iplat_center_state", (*bi, ("state", "offline"))] == 1
    assert got["iplat_center_source_errors", (*ee, ("source", "calendar"))] == 1
    assert got["iplat_center_source_ok", (*ee, ("source", "calendar"))] == 0
    assert got["iplat_center_source_ok", (*ee, ("source", "equipment"))] == 1
    assert got["iplat_center_backlog_changes", ee] == 40
    assert got["iplat_center_backlog_stalled_seconds", ee] == 30
    assert got["iplat_center_quarantined_deletes", ee] == 3
    assert got["iplat_center_commit_lag_seconds", ee] == 0.4
    assert got["iplat_center_problems", (*ee, ("severity", "warning"))] == 2
    assert got["iplat_center_info", (("agent_version", "0.1.0"), *ee)] == 1
    assert got["iplat_changes_applied_total", ()] == 5
    assert got["iplat_changes_duplicate_total", ()] == 1
    assert got["iplat_batches_total", (("result", "applied"),)] == 1
    assert got["iplat_batches_total", (("result", "rewind"),)] == 1
    assert got["iplat_batches_total", (("result", "rejected"),)] == 1
    assert got["iplat_apply_seconds_count", ()] == 2
    assert got["iplat_store_errors_total", ()] == 1
    assert got["iplat_sync_streams", ()] == 1
    assert got["iplat_hub_info", (("version", "9.9.9"),)] == 1
    assert got["iplat_center_open_items", ee] == 3 and got["iplat_center_open_items", bi] == 0
    routing = {dict(k)["state"]: v for (n, k), v in got.items() if n == "iplat_routing_items"}
    assert routing == {
        s: {"routed": 2, "delivered": 1, "accepted": 4}.get(s, 0) for s in ITEM_STATES
    }


def test_two_hubs_in_one_process_do_not_share_counters() -> None:
    first, second = HubMetrics(lambda: 0, "1"), HubMetrics(lambda: 0, "1")
    first.sync.batch_committed(7, 0, False, 0.01)
    text = second.render(None).decode()
    assert ("iplat_changes_applied_total", {}, 0.0) in samples(text)


def test_many_sources_do_not_grow_the_series_without_bound() -> None:
    flood = [{**BROKEN, "name": f"s{i}"} for i in range(500)]
    report = assess_fleet([status(sources=flood)], NOW, SyncSettings(), OpsSettings())
    text = HubMetrics(lambda: 0, "1").render(report).decode()
    series = [n for n, _, _ in samples(text) if n == "iplat_center_source_errors"]
    assert len(series) == 16
