"""What the store keeps for operator health, on SQLite and PostgreSQL: the announced
heartbeat interval, the backlog trend, commit lag, and each center's sync history."""

from __future__ import annotations

from hub.store import Store, events
from tests.hub.test_store_builders import CENTER, T0, center

CSV_ERROR = "calendar.csv:17: end before start"


def _store(db_url: str) -> Store:
    store = Store.open(db_url)
    store.add_center(center())
    return store


def _beat(store: Store, at: int, backlog: int, **kw: object) -> list[tuple[str, dict[str, object]]]:
    return store.record_heartbeat(
        CENTER,
        at,
        backlog=backlog,
        quarantined_deletes=int(kw.pop("held", 0)),  # type: ignore[call-overload]
        sources=list(kw.pop("sources", [])),  # type: ignore[call-overload]
        **kw,  # type: ignore[arg-type]
    )


def test_hello_keeps_the_announced_interval_and_starts_the_history(db_url: str) -> None:
    with _store(db_url) as store:
        store.record_hello(CENTER, "0.1.0", T0, heartbeat_seconds=7)
        assert store.sync_state(CENTER).heartbeat_seconds == 7
        store.record_hello(CENTER, "0.1.0", T0 + 1)  # an agent that announces nothing
        assert store.sync_state(CENTER).heartbeat_seconds is None
        store.record_disconnect(CENTER, T0 + 5, reason="stream ended")
        history = store.center_events(CENTER)
    assert [(e.kind, e.at) for e in history] == [
        ("disconnected", T0 + 5),
        ("connected", T0 + 1),
        ("connected", T0),
    ]
    assert history[0].detail == {"reason": "stream ended"}
    assert history[2].detail == {"agent_version": "0.1.0", "heartbeat_seconds": 7}


def test_backlog_trend_restarts_when_it_shrinks_and_clears_when_empty(db_url: str) -> None:
    with _store(db_url) as store:
        _beat(store, T0, 100)
        _beat(store, T0 + 5, 150)
        _beat(store, T0 + 10, 150)
        st = store.sync_state(CENTER)
        assert (st.backlog_since, st.backlog_since_value, st.backlog) == (T0, 100, 150)
        _beat(store, T0 + 15, 120)  # draining: the clock restarts
        st = store.sync_state(CENTER)
        assert (st.backlog_since, st.backlog_since_value) == (T0 + 15, 120)
        _beat(store, T0 + 20, 0, commit_lag_seconds=1.5)
        st = store.sync_state(CENTER)
        assert (st.backlog_since, st.backlog_since_value) == (None, None)
        assert st.commit_lag_seconds == 1.5
        assert st.last_heartbeat_at == T0 + 20
        _beat(store, T0 + 25, 0)  # no measurement keeps the last one
        assert store.sync_state(CENTER).commit_lag_seconds == 1.5


def test_source_failures_and_held_deletes_are_recorded_once(db_url: str) -> None:
    ok = {"name": "calendar", "ok": True, "records": 3, "problems": 0, "first_problem": ""}
    broken = {**ok, "ok": False, "problems": 1, "first_problem": CSV_ERROR}
    with _store(db_url) as store:
        assert _beat(store, T0, 0, sources=[ok]) == []
        caused = _beat(store, T0 + 1, 0, sources=[broken], synced={"batches": 2, "changes": 9})
        assert [k for k, _ in caused] == ["synced", "source_failing"]
        assert _beat(store, T0 + 2, 0, sources=[broken]) == []  # the same failure: no new row
        assert _beat(store, T0 + 3, 0, sources=[broken], held=4) == [
            ("deletes_held", {"count": 4, "before": 0})
        ]
        assert _beat(store, T0 + 4, 0, sources=[ok], held=4) == [
            ("source_recovered", {"source": "calendar"})
        ]
        kinds = [(e.kind, e.detail.get("first_problem")) for e in store.center_events(CENTER)]
    assert kinds == [
        ("source_recovered", None),
        ("deletes_held", None),
        ("source_failing", CSV_ERROR),
        ("synced", None),
    ]


def test_history_is_pruned_to_the_newest_rows_per_center(db_url: str) -> None:
    with _store(db_url) as store:
        store.add_center(center("KR-BI-0002", industry="bio"))
        store.record_hello("KR-BI-0002", "0.1.0", T0)
        for i in range(events.KEEP + 15):
            store.record_reconcile(CENTER, T0 + i, {"round": i})
        history = store.center_events(CENTER, limit=1000)
        other = store.center_events("KR-BI-0002")
    assert len(history) == events.KEEP
    assert history[0].detail == {"round": events.KEEP + 14}
    assert history[-1].detail == {"round": 15}
    assert [e.kind for e in other] == ["connected"]  # another center's history is untouched
