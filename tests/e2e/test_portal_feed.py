"""A portal keeps its own copy of the national view from the live feed alone
(DESIGN.md section 6), with real agents changing real calendars.

Two centers' agents sync equipment and bookings; then their sources change: bookings
added, moved and deleted, equipment added and its status changed. One portal follows
the SSE feed (GET /v1/feed), another gRPC FeedService.Watch; each builds its cache from
the events only and must end exactly at the hub's state (``iplat-hub view --json``).
The SSE portal disconnects before the changes and resumes with Last-Event-ID after them:
it must lose nothing and process nothing twice. Finally one agent is SIGKILLed: within
the staleness threshold the search API flags that center's results stale and the feed
says so.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agentenv import make_agent_dir
from tests.helpers.e2e import Procs, hub_view, make_sources, mutate, rng_for, wait_converged
from tests.helpers.hubenv import RunningHub, init_hub, set_config
from tests.helpers.portal import (
    Follower,
    create_api_key,
    fetch,
    http_address,
    sse_follower,
    watch_follower,
)
from tests.helpers.wait import eventually

A, B = "KR-EE-0001", "KR-BI-0002"
STALE_AFTER = 3

pytestmark = pytest.mark.slow


def _view(data_dir: Path, center_id: str) -> dict[str, Any]:
    """``iplat-hub view --json`` of one center, in PortalCache.view's shape."""
    out: dict[str, Any] = {}
    for eq in hub_view(data_dir, center_id)["equipment"]:
        entries = {en["id"]: (en["start"], en["end"], en["kind"]) for en in eq["entries"]}
        out[eq["id"]] = (eq["name_ko"], eq["name_en"], eq["category"], eq["status"], entries)
    return out


def _caches_match(hub: RunningHub, followers: list[Follower]) -> bool:
    for f in followers:
        assert f.error is None, f"follower failed: {f.error!r}"
        for center in (A, B):
            want = _view(hub.data_dir, center)
            got = f.cache.view(center)
            differ = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            assert got == want, (
                f"{center}: cache has {len(got)} equipment, hub {len(want)}; differ: {differ[:3]}"
            )
    return True


def _all_events(http: str, key: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = ""
    while True:
        params = {"limit": "1000", **({"after": after} if after else {})}
        page = fetch(http, "/v1/feed/changes", key=key, params=params).json()
        events += page["events"]
        after = page["next"]
        if page["caught_up"]:
            return events


def _iso(t: float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_portal_caches_follow_the_feed_exactly(tmp_path: Path, db_url: str, procs: Procs) -> None:
    rng = rng_for("portal_feed")
    data_dir = init_hub(
        tmp_path / "hub",
        db_url=db_url,
        settings={"heartbeat_seconds": 1, "stale_after_seconds": STALE_AFTER},
    )
    set_config(data_dir, "poll_seconds", 0.05)
    hub = procs.hub(data_dir)
    http = http_address(hub)
    key = create_api_key(data_dir, "portal-web")
    sse = sse_follower(http, key)
    watch = watch_follower(hub.address, hub.credentials("portal-grpc", "portal"))
    followers = [sse, watch]
    try:
        for f in followers:
            f.start()  # from the beginning of the feed, before any agent exists

        dirs = {c: make_agent_dir(hub, tmp_path / c, c) for c in (A, B)}
        sources = {
            A: make_sources(rng, 12, 40, prefix="A", tag="v0"),
            B: make_sources(rng, 12, 40, prefix="B", tag="v0"),
        }
        agents = {}
        for c, ad in dirs.items():
            sources[c].write(ad)
            agents[c] = procs.agent(ad)
        for c, ad in dirs.items():
            wait_converged(data_dir, ad, sources[c], timeout=60)
        eventually(lambda: _caches_match(hub, followers), timeout=15, interval=0.2)

        # The SSE portal goes away; adds, moves, deletes and status changes happen.
        sse.stop()
        token_at_disconnect = sse.cache.token
        for c, ad in dirs.items():
            sources[c] = mutate(sources[c], rng, changes=8, deletes=6, adds=3, tag="v1")
            sources[c].write(ad)
        for c, ad in dirs.items():
            wait_converged(data_dir, ad, sources[c], timeout=60)
        eventually(lambda: _caches_match(hub, [watch]), timeout=15, interval=0.2)
        assert sse.cache.token == token_at_disconnect  # really disconnected meanwhile

        sse.start()  # resumes with Last-Event-ID = its last token
        eventually(lambda: _caches_match(hub, followers), timeout=15, interval=0.2)
        assert sse.sessions == 2

        # Nothing lost and nothing twice: each follower processed every event exactly once.
        def counted() -> bool:
            events = _all_events(http, key)
            assert events and all(f.cache.token == events[-1]["token"] for f in followers)
            assert [f.cache.events for f in followers] == [len(events), len(events)]
            return True

        eventually(counted, timeout=10, interval=0.2)

        # B's agent dies without a word: its data turns stale within the threshold.
        agents[B].kill()
        killed = time.monotonic()
        query = {
            "from": _iso(time.time() + 3600),
            "to": _iso(time.time() + 3 * 86400),
            "hours": "1",
        }

        def b_stale_in_search() -> bool:
            answer = fetch(http, "/v1/equipment/search", key=key, params=query).json()
            flags = {(r["center"]["id"], r["stale"]) for r in answer["results"]}
            return (B, True) in flags and (A, False) in flags and (B, False) not in flags

        eventually(b_stale_in_search, timeout=STALE_AFTER + 5, interval=0.2)
        assert time.monotonic() - killed <= STALE_AFTER + 2.5
        eventually(lambda: sse.cache.stale.get(B) is True, timeout=5)
        assert sse.cache.stale.get(A) is False
    finally:
        for f in followers:
            f.close()
