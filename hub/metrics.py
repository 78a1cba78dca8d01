"""Prometheus metrics of a serving hub (``GET /metrics`` on the HTTP port).

Two kinds, one registry per :class:`~hub.server.HubServer` (tests run several hubs in one
process; nothing is registered in prometheus_client's global registry):

- per center, read from the database (:class:`FleetCollector`, exporting the cached
  :class:`~hub.health.FleetReport` the dashboard shows too): labels ``center`` and
  ``industry`` (plus ``source``, ``state``, ``severity`` or ``agent_version`` where named
  below), never record ids, so the series count is bounded by the number of centers;
- hub-wide counters of this process (:class:`SyncMetrics`), fed by the Sync service and
  the store access; they restart at zero with the process, as Prometheus expects;
- one-stop routing read from the database (:class:`RoutingSnapshot`): items per state
  (label ``state``, one of the seven item states) and open items per center (the
  center labels), so an item stuck at a center shows next to its other health.

Names are stable (``tests/hub/test_metrics_names.py`` holds the golden list): dashboards
and alert rules (``deploy/prometheus/alerts.yml``) depend on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.health import STATES, CenterHealth, FleetReport
from hub.health.problems import SEVERITIES
from hub.routing.model import ITEM_STATES

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
BATCH_RESULTS = ("applied", "rewind", "rejected")
# Apply (one transaction) takes ~1 ms for a small batch and ~20-50 ms for 1,000 changes
# (docs/benchmarks.md); a store in trouble shows up in the upper buckets.
APPLY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CENTER_LABELS = ("center", "industry")


class SyncMetrics:
    """Process-local counters: batches, changes, apply time, store errors."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # The *_created series would double the series count for no use in alerting.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.changes_applied = Counter(
            "iplat_changes_applied",
            "Changes committed by this hub process (above the high-water mark).",
            registry=registry,
        )
        self.changes_duplicate = Counter(
            "iplat_changes_duplicate",
            "Replayed changes acknowledged without effect (at or below the high-water mark).",
            registry=registry,
        )
        self.batches = Counter(
            "iplat_batches",
            "Change batches by result: applied, rewind (gap: the agent resends), rejected "
            "(invalid, nothing applied).",
            ["result"],
            registry=registry,
        )
        for result in BATCH_RESULTS:
            self.batches.labels(result)  # every series exists from the start, at 0
        self.apply_seconds = Histogram(
            "iplat_apply_seconds",
            "Time to apply and commit one batch.",
            buckets=APPLY_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "iplat_store_errors",
            "Database calls of this hub process that failed (database unreachable or broken).",
            registry=registry,
        )

    def batch_committed(self, applied: int, duplicates: int, rewind: bool, seconds: float) -> None:
        self.batches.labels("rewind" if rewind else "applied").inc()
        self.changes_applied.inc(applied)
        self.changes_duplicate.inc(duplicates)
        self.apply_seconds.observe(seconds)

    def batch_rejected(self) -> None:
        self.batches.labels("rejected").inc()

    def store_error(self) -> None:
        self.store_errors.inc()


@dataclass(frozen=True)
class RoutingSnapshot:
    """One-stop routing as /metrics shows it, read when the page is scraped."""

    items: Mapping[str, int] = field(default_factory=dict)
    """Items per state (missing states are 0)."""
    open_by_center: Mapping[str, int] = field(default_factory=dict)
    """Items routed or delivered to each center, waiting for its answer."""


def _gauge(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=[*CENTER_LABELS, *extra])


class FleetCollector(Collector):
    """Per-center gauges from the latest fleet report, plus hub-wide gauges."""

    def __init__(
        self,
        report: Callable[[], FleetReport | None],
        streams: Callable[[], int],
        version: str,
        routing: Callable[[], RoutingSnapshot | None] = lambda: None,
    ) -> None:
        self._report = report
        self._routing = routing
        self._streams = streams
        self._version = version

    def describe(self) -> list[Metric]:
        # Listing nothing keeps the registry from calling collect() when registering.
        return []

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("iplat_hub_info", "This hub's version.", labels=["version"])
        info.add_metric([self._version], 1)
        yield info
        yield GaugeMetricFamily(
            "iplat_sync_streams", "Open Sync streams on this hub process.", value=self._streams()
        )
        report = self._report()
        centers = report.centers if report is not None else ()
        if report is not None:
            yield GaugeMetricFamily(
                "iplat_health_report_timestamp_seconds",
                "When the center health below was read from the database.",
                value=report.now,
            )
        routing = self._routing() or RoutingSnapshot()
        items = GaugeMetricFamily(
            "iplat_routing_items",
            "One-stop request items by state (routed and delivered wait for a center, "
            "proposed for the company).",
            labels=["state"],
        )
        for state in ITEM_STATES:
            items.add_metric([state], routing.items.get(state, 0))
        yield items
        yield from _center_metrics(centers, report.now if report is not None else 0)
        open_items = _gauge(
            "iplat_center_open_items",
            "Request items routed or delivered to the center, waiting for its answer.",
        )
        for c in centers:
            open_items.add_metric(
                [c.id, c.status.center.industry], routing.open_by_center.get(c.id, 0)
            )
        yield open_items


def _center_metrics(centers: tuple[CenterHealth, ...], now: int) -> Iterator[Metric]:
    up = _gauge("iplat_center_up", "1 if the center is online (open stream, heartbeats on time).")
    state = _gauge(
        "iplat_center_state", "1 for the center's current state, 0 for the others.", ("state",)
    )
    connected = _gauge("iplat_center_connected", "1 while the center has an open Sync stream.")
    last_seen = _gauge(
        "iplat_center_last_seen_timestamp_seconds", "When the center's agent was last heard."
    )
    last_hb = _gauge(
        "iplat_center_last_heartbeat_timestamp_seconds", "When the last heartbeat arrived."
    )
    last_sync = _gauge(
        "iplat_center_last_sync_timestamp_seconds",
        "When a batch of the center with new changes was last committed (acknowledged).",
    )
    interval = _gauge(
        "iplat_center_heartbeat_interval_seconds",
        "The heartbeat interval the center's states are derived from.",
    )
    hwm = _gauge("iplat_center_hwm", "Highest committed sequence number (high-water mark).")
    backlog = _gauge(
        "iplat_center_backlog_changes", "Changes waiting in the agent's outbox (its heartbeat)."
    )
    stalled = _gauge(
        "iplat_center_backlog_stalled_seconds",
        "How long the backlog has been non-zero without shrinking (0: empty or draining).",
    )
    lag = _gauge(
        "iplat_center_commit_lag_seconds",
        "Change-to-commit lag measured by the serving hub (heartbeat resolution).",
    )
    held = _gauge(
        "iplat_center_quarantined_deletes",
        "Deletions held back by the agent's safety valve, waiting for approve-deletes.",
    )
    cert = _gauge(
        "iplat_center_cert_expiry_timestamp_seconds",
        "Expiry of the center's newest valid certificate.",
    )
    reconcile = _gauge(
        "iplat_center_last_reconcile_timestamp_seconds", "When the last reconciliation reported."
    )
    src_errors = _gauge(
        "iplat_center_source_errors",
        "Problems of a source at its last poll (rows left out, or 1 if unreadable).",
        ("source",),
    )
    src_ok = _gauge(
        "iplat_center_source_ok", "1 if the source was readable at its last poll.", ("source",)
    )
    src_poll = _gauge(
        "iplat_center_source_last_poll_timestamp_seconds",
        "When the agent last polled the source.",
        ("source",),
    )
    problems = _gauge(
        "iplat_center_problems",
        "The center's problems by severity (iplat-hub status says what to do).",
        ("severity",),
    )
    info = _gauge("iplat_center_info", "The center's agent version.", ("agent_version",))
    for c in centers:
        labels = [c.id, c.status.center.industry]
        st = c.status.state
        up.add_metric(labels, 1 if c.state == "online" else 0)
        for s in STATES:
            state.add_metric([*labels, s], 1 if c.state == s else 0)
        connected.add_metric(labels, 1 if st.connected else 0)
        if st.last_seen is not None:
            last_seen.add_metric(labels, st.last_seen)
        if st.last_heartbeat_at is not None:
            last_hb.add_metric(labels, st.last_heartbeat_at)
        if st.last_sync is not None:
            last_sync.add_metric(labels, st.last_sync)
        interval.add_metric(labels, c.thresholds.heartbeat_seconds)
        hwm.add_metric(labels, st.hwm)
        backlog.add_metric(labels, st.backlog)
        since = st.backlog_since
        stalled.add_metric(labels, max(0, now - since) if since is not None else 0)
        if st.commit_lag_seconds is not None:
            lag.add_metric(labels, st.commit_lag_seconds)
        held.add_metric(labels, st.quarantined_deletes)
        if c.status.cert_expires_at is not None:
            cert.add_metric(labels, c.status.cert_expires_at)
        if st.last_reconcile_at is not None:
            reconcile.add_metric(labels, st.last_reconcile_at)
        for src in c.sources():
            name = str(src.get("name", ""))[:64]
            ok = bool(src.get("ok", True))
            count = int(src.get("problems") or 0)
            src_errors.add_metric([*labels, name], count if ok else max(1, count))
            src_ok.add_metric([*labels, name], 1 if ok else 0)
            if src.get("last_poll") is not None:
                src_poll.add_metric([*labels, name], int(src["last_poll"]))
        for severity in SEVERITIES:
            problems.add_metric(
                [*labels, severity], sum(1 for p in c.problems if p.severity == severity)
            )
        info.add_metric([*labels, st.agent_version or "unknown"], 1)
    yield from (
        up, state, connected, last_seen, last_hb, last_sync, interval, hwm, backlog, stalled,
        lag, held, cert, reconcile, src_errors, src_ok, src_poll, problems, info,
    )  # fmt: skip


class HubMetrics:
    """The registry of one serving hub: process counters plus the fleet collector."""

    def __init__(self, streams: Callable[[], int], version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.sync = SyncMetrics(self.registry)
        self._latest: FleetReport | None = None
        self._routing: RoutingSnapshot | None = None
        self.registry.register(
            FleetCollector(lambda: self._latest, streams, version, lambda: self._routing)
        )

    def render(self, report: FleetReport | None, routing: RoutingSnapshot | None = None) -> bytes:
        """The text exposition format, with ``report`` as the per-center part and
        ``routing`` as the routing part (None: every count 0)."""
        self._latest = report
        self._routing = routing
        return prometheus_client.generate_latest(self.registry)


def package_version() -> str:
    """The installed iplatform-sync version (``iplat_hub_info``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iplatform-sync")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"
