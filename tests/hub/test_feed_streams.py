"""The live feed over SSE (GET /v1/feed) and gRPC (FeedService.Watch) from a real hub process,
fed by a raw Sync client: live delivery, resume after a disconnect without loss or
repeats, center freshness events, expired and malformed tokens, authorization, and a
revoked key ending its open stream.

Every test registers its own center and starts from the feed head it finds, so tests do
not see each other's changes (and pruning in one does not break another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from hub import config
from hub.store import Store
from proto import grpc_services, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import RunningHub, SyncSession, init_hub, running_hub, set_config
from tests.helpers.portal import (
    SseClient,
    SseEvent,
    create_api_key,
    entry,
    equipment,
    fetch,
    http_address,
    revoke_api_key,
)
from tests.helpers.portal import change as ch
from tests.helpers.wait import aeventually

T = 1_900_000_000


@dataclass
class Env:
    hub: RunningHub
    http: str
    key: str

    def head(self) -> str:
        return str(fetch(self.http, "/healthz").json()["feed_head"])

    def center(self, center_id: str) -> str:
        hubenv.add_center(self.hub.data_dir, center_id)
        return center_id

    def agent(self, center_id: str) -> SyncSession:
        return SyncSession(self.hub.address, self.hub.credentials(center_id))

    def watch(self, after: str, kind: str = "portal") -> tuple[Any, Any]:
        channel = grpc.aio.secure_channel(self.hub.address, self.hub.credentials("web", kind))
        call = grpc_services.FeedServiceStub(channel).Watch(pb.WatchRequest(after_token=after))
        return channel, call


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    data_dir = init_hub(
        tmp_path_factory.mktemp("hub"),
        settings={"heartbeat_seconds": 1, "stale_after_seconds": 2},
    )
    set_config(data_dir, "sse_keepalive_seconds", 1.0)
    set_config(data_dir, "poll_seconds", 0.05)
    with running_hub(data_dir) as hub:
        yield Env(hub, http_address(hub), create_api_key(data_dir, "web"))


def _records(events: list[SseEvent]) -> list[tuple[str, str, str]]:
    return [
        (e.data["kind"], e.data["id"], e.data["op"]) for e in events if e.data["kind"] != "center"
    ]


def test_sse_follows_live_changes_and_resumes_after_a_disconnect(env: Env) -> None:
    c = env.center("KR-SSE-0001")
    start = env.head()

    async def run() -> tuple[list[SseEvent], list[SseEvent], list[SseEvent]]:
        async with env.agent(c) as agent:
            await agent.hello(c)
            await agent.batch(
                c, 0, [ch(c, 1, equipment("EQ-1")), ch(c, 2, equipment("EQ-2")),
                       ch(c, 3, entry("BK-1", "EQ-1", T, T + 3600))],
            )  # fmt: skip
            async with SseClient(env.http, env.key, after=start) as feed:
                first = await feed.changes_until_caught_up()
                await agent.batch(
                    c, 3, [ch(c, 4, equipment("EQ-1", name_en="moved")),
                           ch(c, 5, delete=(pb.RECORD_KIND_ENTRY, "BK-1"))],
                )  # fmt: skip
                live = [e for e in await feed.changes(2) if e.data["kind"] != "center"]
                while len(live) < 2:
                    live += [e for e in await feed.changes(1) if e.data["kind"] != "center"]
            # Disconnected after the first live event was processed; more changes commit.
            await agent.batch(
                c, 5, [ch(c, 6, equipment("EQ-3")), ch(c, 7, entry("BK-2", "EQ-3", T, T + 60))]
            )
            # Last-Event-ID (what EventSource sends) wins over ?after.
            async with SseClient(
                env.http, env.key, after=start, last_event_id=live[0].id
            ) as resumed_feed:
                resumed = await resumed_feed.changes_until_caught_up()
        return first, live, resumed

    first, live, resumed = asyncio.run(run())
    assert _records(first) == [
        ("equipment", "EQ-1", "upsert"),
        ("equipment", "EQ-2", "upsert"),
        ("entry", "BK-1", "upsert"),
    ]
    assert _records(live) == [("equipment", "EQ-1", "upsert"), ("entry", "BK-1", "delete")]
    assert live[0].data["equipment"]["name_en"] == "moved"
    assert _records(resumed) == [
        ("entry", "BK-1", "delete"),
        ("equipment", "EQ-3", "upsert"),
        ("entry", "BK-2", "upsert"),
    ]
    # Nothing lost, nothing twice: the streams' tokens are exactly the polled feed's.
    got = [e.id for e in first + live[:1] + resumed if e.data["kind"] != "center"]
    polled = fetch(env.http, "/v1/feed/changes", key=env.key, params={"after": start}).json()
    want = [e["token"] for e in polled["events"] if e["kind"] != "center"]
    assert got == want and len(set(got)) == len(got)
    assert all(e.id == e.data["token"] for e in first + live + resumed)


def test_watch_streams_resumes_and_reports_center_freshness(env: Env) -> None:
    c = env.center("KR-WAT-0001")
    start = env.head()

    async def run() -> tuple[list[Any], list[Any], list[Any]]:
        channel, call = env.watch(start)
        async with channel:
            first = await call.read()
            assert first.caught_up and not first.events, first
            async with env.agent(c) as agent:
                await agent.hello(c)
                await agent.batch(c, 0, [ch(c, 1, equipment("EQ-1")), ch(c, 2, equipment("EQ-2"))])

                events: list[Any] = []

                async def until(pred: Any) -> bool:
                    events.extend((await call.read()).events)
                    return bool(pred(events))

                def ops(evs: list[Any]) -> list[tuple[str, int]]:
                    return [(e.key.id or e.center_id, e.op) for e in evs]

                await aeventually(
                    lambda: until(lambda evs: (c, pb.FEED_OP_CENTER_FRESH) in ops(evs)
                                  and ("EQ-2", pb.FEED_OP_UPSERT) in ops(evs)),
                    timeout=10,
                )  # fmt: skip
            # The agent is gone: within stale_after (2 s) plus a poll the center turns stale.
            await aeventually(
                lambda: until(lambda evs: (c, pb.FEED_OP_CENTER_STALE) in ops(evs)), timeout=10
            )
            call.cancel()
        # Resume after the first record event: the rest again, in order.
        after = next(e.token for e in events if e.key.id == "EQ-1")
        channel2, call2 = env.watch(after)
        async with channel2:
            resumed: list[Any] = []
            while True:
                msg = await call2.read()
                resumed += msg.events
                if msg.caught_up:
                    break
            call2.cancel()
        return events, resumed, ops(events)

    events, resumed, _ = asyncio.run(run())
    eq1 = next(e for e in events if e.key.id == "EQ-1")
    assert eq1.op == pb.FEED_OP_UPSERT and eq1.equipment.name_ko == "장비 EQ-1"
    assert eq1.center.center_id == c
    stale = next(e for e in events if e.op == pb.FEED_OP_CENTER_STALE)
    assert not stale.HasField("key") and stale.center.stale
    assert [e.token for e in resumed] == [e.token for e in events][1:]


def test_watch_refuses_bad_tokens_and_centers(env: Env) -> None:
    async def code(after: str, kind: str = "portal") -> grpc.StatusCode:
        channel, call = env.watch(after, kind)
        async with channel:
            try:
                await call.read()
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            call.cancel()
            return grpc.StatusCode.OK

    async def run() -> list[grpc.StatusCode]:
        return [
            await code("not-a-token"),
            await code("AQAAAAAAAPPP"),  # well-formed, but far ahead of the log
            await code("", kind="center"),
            await code(""),
        ]

    assert asyncio.run(run()) == [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OK,
    ]


def test_a_revoked_key_ends_its_open_stream(env: Env) -> None:
    key = create_api_key(env.hub.data_dir, "short-lived")
    start = env.head()

    async def run() -> SseEvent | None:
        async with SseClient(env.http, key, after=start) as feed:
            await feed.changes_until_caught_up()
            revoke_api_key(env.hub.data_dir, "short-lived")
            # The stream re-checks its key at every keepalive (1 s here) and ends.
            while (event := await feed.next()) is not None:
                if event.event == "error":
                    assert await feed.next() is None
                    return event
            return None

    event = asyncio.run(run())
    assert event is not None and event.data["status"] == 403


def test_tokens_older_than_the_retained_log_must_resync(env: Env) -> None:
    c = env.center("KR-PRU-0001")
    old = env.head()

    async def push() -> None:
        async with env.agent(c) as agent:
            await agent.hello(c)
            await agent.batch(c, 0, [ch(c, 1, equipment("EQ-1"))])

    asyncio.run(push())
    store = Store.open(config.load(env.hub.data_dir).database_url)
    try:
        assert store.prune_feed(before=2**40) > 0  # as retention would, much later
    finally:
        store.close()
    gone = fetch(env.http, "/v1/feed", key=env.key, params={"after": old})
    assert gone.status == 410 and "snapshot" in gone.problem()["detail"]
    polled = fetch(env.http, "/v1/feed/changes", key=env.key, params={"after": old})
    assert polled.status == 410

    async def watch_code() -> grpc.StatusCode:
        channel, call = env.watch(old)
        async with channel:
            try:
                await call.read()
            except grpc.aio.AioRpcError as exc:
                assert "snapshot" in (exc.details() or "")
                return exc.code()
        return grpc.StatusCode.OK

    assert asyncio.run(watch_code()) == grpc.StatusCode.FAILED_PRECONDITION
    # The snapshot's token is current: following from it works.
    token = fetch(env.http, "/v1/snapshot", key=env.key).json()["feed_token"]
    assert fetch(env.http, "/v1/feed/changes", key=env.key, params={"after": token}).status == 200
    bad = fetch(env.http, "/v1/feed", key=env.key, headers={"Last-Event-ID": "garbage"})
    assert bad.status == 400 and bad.problem()["errors"][0] == {
        "name": "Last-Event-ID",
        "in": "header",
        "detail": bad.problem()["errors"][0]["detail"],
    }
