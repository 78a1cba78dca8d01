"""The HTTP/JSON API of a real hub process over loopback: API keys, CORS, pagination,
problem documents for every kind of bad input, records and the polled feed.

One hub serves the whole module (SQLite); its data is written through the store before
it starts, as agents' batches would have.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hub import config
from hub.store import Store
from proto import pb
from tests.helpers.hubenv import RunningHub, init_hub, running_hub, set_config
from tests.helpers.portal import (
    Reply,
    Seeder,
    create_api_key,
    entry,
    equipment,
    fetch,
    http_address,
    revoke_api_key,
)

ORIGIN = "https://portal.example.kr"
CENTERS = {
    "KR-AA-0001": "machinery-robotics",
    "KR-BB-0002": "bio",
    "KR-CC-0003": "bio",
    "KR-DD-0004": "materials",
    "KR-EE-0005": "electrical-electronics",
}
A = "KR-AA-0001"


@dataclass
class Api:
    hub: RunningHub
    address: str
    key: str

    def get(self, path: str, **kw: object) -> Reply:
        kw.setdefault("key", self.key)
        return fetch(self.address, path, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    # A long threshold: these tests read freshness, whenever the module runs.
    data_dir = init_hub(tmp_path_factory.mktemp("hub"), settings={"stale_after_seconds": 3600})
    set_config(data_dir, "cors_origins", [ORIGIN])
    now = int(time.time())
    store = Store.open(config.load(data_dir).database_url)
    try:
        seeder = Seeder(store)
        for center_id, industry in CENTERS.items():
            seeder.add_center(center_id, industry=industry)
        seeder.apply(
            A,
            equipment("EQ-1", capabilities=["cycling", "eis"], year_acquired=2021),
            equipment("EQ-2", status=pb.EQUIPMENT_STATUS_MAINTENANCE),
            equipment("EQ-3"),
            entry("BK-1", "EQ-1", now + 3600, now + 7200),
            now=now,
        )
        seeder.apply("KR-BB-0002", equipment("BIO-1", category="pcr"), now=now)
    finally:
        store.close()
    key = create_api_key(data_dir, "web")
    with running_hub(data_dir) as hub:
        yield Api(hub, http_address(hub), key)


def _pages(api: Api, path: str, **params: str) -> list[Reply]:
    replies, cursor = [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        reply = api.get(path, params=query)
        assert reply.status == 200, reply.body
        replies.append(reply)
        cursor = reply.json()["next_cursor"]
        if cursor is None:
            return replies


# -- open routes and API keys ----------------------------------------------------------------


def test_health_and_the_openapi_document_need_no_key(api: Api) -> None:
    health = fetch(api.address, "/healthz")
    assert health.status == 200 and health.json()["status"] == "ok"
    doc = fetch(api.address, "/openapi.json")
    assert doc.status == 200 and doc.json()["openapi"] == "3.1.0"
    assert set(doc.json()["paths"]) == {
        "/healthz",
        "/openapi.json",
        "/v1/centers",
        "/v1/centers/{center_id}",
        "/v1/centers/{center_id}/equipment",
        "/v1/centers/{center_id}/equipment/{equipment_id}",
        "/v1/equipment/search",
        "/v1/feed",
        "/v1/feed/changes",
        "/v1/snapshot",
        "/v1/centers/{center_id}/freebusy.ics",
        "/v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics",
        "/v1/requests",
        "/v1/requests/preview",
        "/v1/requests/{request_id}",
        "/v1/requests/{request_id}/items/{item_id}/proposal",
        "/v1/requests/{request_id}/cancel",
        "/v1/demand",
        "/v1/technology-areas",
    }


def test_api_key_lifecycle(api: Api) -> None:
    none = fetch(api.address, "/v1/centers")
    assert none.status == 401 and none.problem()["type"].endswith(":unauthenticated")
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    for bad in ("nonsense", "ipk_0000000000000000." + "A" * 43):
        reply = fetch(api.address, "/v1/centers", headers={"Authorization": f"Bearer {bad}"})
        assert reply.status == 401, bad
        reply.problem()
    basic = fetch(api.address, "/v1/centers", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status == 401 and "Bearer" in basic.problem()["detail"]

    key = create_api_key(api.hub.data_dir, "lifecycle", role="operator")
    assert fetch(api.address, "/v1/centers", key=key).status == 200
    assert fetch(api.address, "/v1/centers", headers={"X-API-Key": key}).status == 200
    # Keys in the query string are only for calendar subscriptions.
    in_query = fetch(api.address, "/v1/centers", params={"key": key})
    assert in_query.status == 401
    with_query = fetch(api.address, "/v1/centers", key=key, params={"key": key})
    assert with_query.status == 400 and ".ics" in with_query.problem()["detail"]

    revoke_api_key(api.hub.data_dir, "lifecycle")
    revoked = fetch(api.address, "/v1/centers", key=key)
    assert revoked.status == 403
    problem = revoked.problem()
    assert problem["type"].endswith(":key-revoked") and "lifecycle" in problem["detail"]
    # Other keys are unaffected.
    assert api.get("/v1/centers").status == 200


# -- CORS -----------------------------------------------------------------------------------


def test_cors_preflight_and_headers_follow_the_configured_origins(api: Api) -> None:
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = fetch(api.address, "/v1/centers", method="OPTIONS", headers=preflight)
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in ok.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    assert ok.headers["Vary"] == "Origin"

    other = fetch(
        api.address,
        "/v1/centers",
        method="OPTIONS",
        headers={**preflight, "Origin": "https://evil.example"},
    )
    assert other.status == 403 and "cors_origins" in other.problem()["detail"]
    assert "Access-Control-Allow-Origin" not in other.headers
    unknown = fetch(api.address, "/v1/nothing", method="OPTIONS", headers=preflight)
    assert unknown.status == 404

    allowed = api.get("/v1/centers", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    refused = api.get("/v1/centers", headers={"Origin": "https://evil.example"})
    assert refused.status == 200 and "Access-Control-Allow-Origin" not in refused.headers
    # Errors carry the header too, so the portal's JavaScript can read the problem.
    error = fetch(api.address, "/v1/centers", headers={"Origin": ORIGIN})
    assert error.status == 401 and error.headers["Access-Control-Allow-Origin"] == ORIGIN


# -- pagination -----------------------------------------------------------------------------


def test_center_pages_are_stable_and_complete(api: Api) -> None:
    pages = _pages(api, "/v1/centers", limit="2")
    assert [len(p.json()["items"]) for p in pages] == [2, 2, 1]
    ids = [c["id"] for p in pages for c in p.json()["items"]]
    assert ids == sorted(CENTERS)
    # The same cursor gives the same page.
    cursor = pages[0].json()["next_cursor"]
    again = api.get("/v1/centers", params={"limit": "2", "cursor": cursor})
    assert again.json() == pages[1].json()
    # Filters apply across pages, and a cursor is tied to its filters.
    bio = _pages(api, "/v1/centers", limit="1", industry="bio")
    assert [c["id"] for p in bio for c in p.json()["items"]] == ["KR-BB-0002", "KR-CC-0003"]
    other = api.get("/v1/centers", params={"limit": "2", "cursor": cursor, "industry": "bio"})
    assert other.status == 400 and other.problem()["errors"][0]["name"] == "cursor"


def test_a_center_added_between_pages_is_listed_once(api: Api) -> None:
    first = api.get("/v1/centers", params={"limit": "2"}).json()
    store = Store.open(api.hub.config.database_url)
    try:
        Seeder(store).add_center("KR-ZZ-0009")
        Seeder(store).add_center("KR-AA-0000")  # sorts before the cursor: not on later pages
    finally:
        store.close()
    rest = _pages(api, "/v1/centers", limit="2", cursor=first["next_cursor"])
    ids = [c["id"] for c in first["items"]] + [c["id"] for p in rest for c in p.json()["items"]]
    assert len(ids) == len(set(ids))
    assert ids[-1] == "KR-ZZ-0009" and "KR-AA-0000" not in ids


def test_equipment_pages_and_records(api: Api) -> None:
    pages = _pages(api, f"/v1/centers/{A}/equipment", limit="2")
    items = [e for p in pages for e in p.json()["items"]]
    assert [e["id"] for e in items] == ["EQ-1", "EQ-2", "EQ-3"]
    eq1 = items[0]
    assert eq1["center_id"] == A and eq1["capabilities"] == ["cycling", "eis"]
    assert eq1["year_acquired"] == 2021 and eq1["status"] == "available"
    assert eq1["stages"] == ["validation"] and eq1["services"] == ["test-analysis"]
    assert items[1]["status"] == "maintenance"

    detail = api.get(f"/v1/centers/{A}/equipment/EQ-1").json()
    assert detail["equipment"] == eq1
    center = detail["center"]
    assert center["id"] == A and center["equipment_count"] == 3
    assert center["freshness"]["stale"] is False and center["freshness"]["last_sync"]

    assert api.get(f"/v1/centers/{A}").json() == center
    missing = api.get("/v1/centers/KR-NO-0000")
    assert missing.status == 404 and "KR-NO-0000" in missing.problem()["detail"]
    assert api.get(f"/v1/centers/{A}/equipment/NOPE").status == 404
    assert api.get("/v1/centers/KR-NO-0000/equipment").status == 404


# -- bad input ------------------------------------------------------------------------------

INJECTIONS = (
    "' OR '1'='1",
    "x'; DROP TABLE equipment; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)",
    "%",
    "\\",
    "</script><script>alert(1)</script>",
    "1' UNION SELECT secret_hash FROM api_keys --",
)
LONG = "x" * 10_000

# Every filter and parameter of every route: (path, parameter, a valid query around it).
SEARCH = {"from": "2026-12-01T09:00", "to": "2026-12-02T18:00", "hours": "2"}
SEARCH_PARAMETERS = (
    *("from", "to", "hours", "industry", "category", "capability", "region", "stage"),
    *("service", "text", "tz", "limit", "cursor"),
)
PARAMETERS = [
    ("/v1/centers", "limit", {}),
    ("/v1/centers", "cursor", {}),
    ("/v1/centers", "industry", {}),
    ("/v1/centers", "region", {}),
    (f"/v1/centers/{A}/equipment", "limit", {}),
    (f"/v1/centers/{A}/equipment", "cursor", {}),
    ("/v1/feed/changes", "after", {}),
    ("/v1/feed/changes", "limit", {}),
    ("/v1/snapshot", "limit", {}),
    ("/v1/snapshot", "cursor", {}),
    *[
        ("/v1/equipment/search", name, {k: v for k, v in SEARCH.items() if k != name})
        for name in SEARCH_PARAMETERS
    ],
    (f"/v1/centers/{A}/freebusy.ics", "from", {}),
    (f"/v1/centers/{A}/freebusy.ics", "to", {}),
    (f"/v1/centers/{A}/equipment/EQ-1/freebusy.ics", "from", {}),
]


@pytest.mark.parametrize(("path", "name", "base"), PARAMETERS, ids=lambda v: str(v)[:40])
def test_injections_and_oversized_values_are_refused_as_problems(
    api: Api, path: str, name: str, base: dict[str, str]
) -> None:
    for value in (*INJECTIONS, LONG, "", "\x00"):
        reply = api.get(path, params=[*base.items(), (name, value)])
        assert 400 <= reply.status < 500, (name, value[:40], reply.status, reply.body[:200])
        problem = reply.problem()
        assert problem["type"].endswith(":invalid-parameter"), problem
        assert name in [e["name"] for e in problem["errors"]], problem
    # A repeated single-valued parameter is refused too.
    if name not in ("capability", "from", "to", "hours"):
        twice = api.get(path, params=[*base.items(), (name, "1"), (name, "2")])
        assert twice.status == 400


def test_bad_paths_methods_and_bodies_are_problems(api: Api) -> None:
    for center in ("' OR '1'='1", "a" * 300, "KR;DROP", "%00"):
        reply = api.get(f"/v1/centers/{center}")
        assert reply.status in (400, 404), (center, reply.status)
        reply.problem()
    bad = api.get("/v1/centers/x'y")
    assert bad.status == 400 and bad.problem()["errors"][0] == {
        "name": "center_id",
        "in": "path",
        "detail": bad.problem()["errors"][0]["detail"],
    }
    assert api.get("/v1/unknown").problem()["status"] == 404
    post = api.get("/v1/centers", method="POST")
    assert post.status == 405 and post.headers["Allow"]
    big = api.get("/v1/centers", data=b"x" * 1_000_000)
    assert big.status == 413 and big.problem()["type"].endswith(":body-too-large")
    # Beyond the request-line limit (32 KiB) aiohttp's parser refuses it before any route:
    # still a 4xx, never a 5xx (and below it, the parameter's own problem document).
    assert api.get("/v1/centers", params={"region": "x" * 40_000}).status in (400, 414)
    assert api.get("/v1/centers", params={"region": "x" * 30_000}).problem()["status"] == 400
    unknown = api.get("/v1/centers", params={"limt": "5"})
    assert unknown.status == 400 and unknown.problem()["errors"][0]["name"] == "limt"
    # The database is intact after all of that.
    assert len(_pages(api, "/v1/centers", limit="200")[0].json()["items"]) >= len(CENTERS)


# -- the feed, polled, and the snapshot -------------------------------------------------------


def test_feed_changes_pages_through_every_change_in_order(api: Api) -> None:
    events, after = [], ""
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        page = api.get("/v1/feed/changes", params=params).json()
        events += page["events"]
        after = page["next"]
        if page["caught_up"]:
            break
    assert [(e["center_id"], e["kind"], e["id"], e["op"]) for e in events[:5]] == [
        (A, "equipment", "EQ-1", "upsert"),
        (A, "equipment", "EQ-2", "upsert"),
        (A, "equipment", "EQ-3", "upsert"),
        (A, "entry", "BK-1", "upsert"),
        ("KR-BB-0002", "equipment", "BIO-1", "upsert"),
    ]
    assert events[0]["equipment"]["capabilities"] == ["cycling", "eis"]
    assert events[3]["entry"]["equipment_id"] == "EQ-1" and events[3]["equipment"] is None
    assert set(events[3]["entry"]) == {"id", "center_id", "equipment_id", "start", "end", "kind"}
    assert events[0]["center"]["id"] == A and events[0]["center"]["stale"] is False
    assert len({e["token"] for e in events}) == len(events)
    gone = api.get("/v1/feed/changes", params={"after": "AQAAAAAAAAPo"})  # position 1000
    assert gone.status == 410 and "snapshot" in gone.problem()["detail"]


def test_snapshot_pages_carry_one_feed_token(api: Api) -> None:
    pages = [p.json() for p in _pages(api, "/v1/snapshot", limit="2")]
    assert len({p["feed_token"] for p in pages}) == 1
    centers = {c["center"]["id"]: c for p in pages for c in p["centers"]}
    assert set(CENTERS) <= set(centers)
    assert [e["id"] for e in centers[A]["equipment"]] == ["EQ-1", "EQ-2", "EQ-3"]
    assert [e["id"] for e in centers[A]["entries"]] == ["BK-1"]
    # Following the feed from the token: nothing older than the snapshot comes back.
    after = api.get("/v1/feed/changes", params={"after": pages[0]["feed_token"]}).json()
    assert after["events"] == [] and after["caught_up"]
