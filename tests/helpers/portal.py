"""What portal-facing tests share: a hub's HTTP address, API keys, an HTTP client (aiohttp
over loopback), the feed followed as a portal would, and seeded data.

::

    key = create_api_key(hub.data_dir, "web")
    reply = get(hub, "/v1/centers", key=key)         # Reply(status, headers, body)
    reply.json()["items"]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc

from hub.store import CenterInfo, Store
from proto import codes, grpc_services, pb, timeconv
from tests.helpers import hubenv
from tests.helpers.hubenv import RunningHub

T0 = 1_800_000_000  # 2027-01-15T08:00:00Z


def http_address(hub: RunningHub) -> str:
    """HOST:PORT of the hub's HTTP API (from serve.json)."""
    info = json.loads((hub.data_dir / "serve.json").read_text())
    return str(info["http"])


def create_api_key(data_dir: Any, name: str, role: str = "portal") -> str:
    code, out = hubenv.run_cli(
        "apikey", "create", name, "--role", role, "--json", "--data-dir", str(data_dir)
    )
    assert code == 0, out
    return str(json.loads(out)["key"])


def revoke_api_key(data_dir: Any, name: str) -> None:
    code, out = hubenv.run_cli("apikey", "revoke", name, "--data-dir", str(data_dir))
    assert code == 0, out


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def json(self) -> Any:
        return json.loads(self.body)

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 document of an error answer (asserting its shape)."""
        assert self.content_type == "application/problem+json", (self.status, self.body[:300])
        doc: dict[str, Any] = self.json()
        assert doc["status"] == self.status
        assert {"type", "title", "status", "detail", "instance"} <= doc.keys(), doc
        return doc


async def afetch(
    address: str,
    path: str,
    *,
    key: str | None = None,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Reply:
    sent = dict(headers or {})
    if key is not None:
        sent.setdefault("Authorization", f"Bearer {key}")
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"http://{address}{path}",
            headers=sent,
            params=list(params.items()) if isinstance(params, Mapping) else params,
            data=data,
        ) as response,
    ):
        body = await response.read()
        return Reply(response.status, dict(response.headers), body)


def fetch(address: str, path: str, **kw: Any) -> Reply:
    """One HTTP request over loopback (aiohttp), from synchronous test code."""
    return asyncio.run(afetch(address, path, **kw))


# -- seeded data --------------------------------------------------------------------------------


def equipment(eq_id: str, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "id": eq_id,
        "name_ko": f"장비 {eq_id}",
        "name_en": f"Equipment {eq_id}",
        "category": "battery-cycler",
        "capabilities": ["cycling"],
        "status": pb.EQUIPMENT_STATUS_AVAILABLE,
        "stages": [pb.RD_STAGE_VALIDATION],
        "services": [pb.SERVICE_KIND_TEST_ANALYSIS],
    }
    values.update(fields)
    return pb.Equipment(**values)


def entry(entry_id: str, eq_id: str, start: int, end: int, kind: Any = None) -> Any:
    return pb.CalendarEntry(
        id=entry_id,
        equipment_id=eq_id,
        start=timeconv.from_epoch(start),
        end=timeconv.from_epoch(end),
        kind=pb.ENTRY_KIND_BOOKED if kind is None else kind,
    )


def change(
    center_id: str, seq: int, record: Any = None, *, delete: tuple[Any, str] | None = None
) -> Any:
    if delete is not None:
        kind, rid = delete
        return pb.Change(
            key=pb.RecordKey(kind=kind, id=rid), seq=seq, center_id=center_id, deleted=True
        )
    if isinstance(record, pb.Equipment):
        key = pb.RecordKey(kind=pb.RECORD_KIND_EQUIPMENT, id=record.id)
        return pb.Change(key=key, seq=seq, center_id=center_id, equipment=record)
    key = pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=record.id)
    return pb.Change(key=key, seq=seq, center_id=center_id, entry=record)


@dataclass
class Seeder:
    """Writes a center's records straight through the store, as an agent's batches would."""

    store: Store
    seqs: dict[str, int] = field(default_factory=dict)

    def add_center(
        self, center_id: str, industry: str = "machinery-robotics", region: str = "대전"
    ) -> None:
        self.store.add_center(
            CenterInfo(
                id=center_id,
                name_ko=f"센터 {center_id}",
                name_en=f"Center {center_id}",
                industry=industry,
                region=region,
                role="operating",
            ),
            now=T0,
        )

    def apply(
        self, center_id: str, *records: Any, deletes: Iterable[tuple[Any, str]] = (), now: int = T0
    ) -> None:
        prev = self.seqs.get(center_id, 0)
        changes = []
        seq = prev
        for record in records:
            seq += 1
            changes.append(change(center_id, seq, record))
        for kind, rid in deletes:
            seq += 1
            changes.append(change(center_id, seq, delete=(kind, rid)))
        result = self.store.apply_batch(center_id, prev, changes, now)
        assert not result.rewind and result.hwm == seq, result
        self.seqs[center_id] = seq


# -- the feed, followed as a portal would ---------------------------------------------------------


@dataclass(frozen=True)
class SseEvent:
    event: str
    id: str | None
    data: Any


class SseClient:
    """``GET /v1/feed`` read as an EventSource would: ``async with SseClient(...) as feed:
    event = await feed.next()``. Raises on a non-200 answer (``status`` and ``body`` set)."""

    def __init__(
        self,
        address: str,
        key: str,
        *,
        after: str | None = None,
        last_event_id: str | None = None,
        read_timeout: float = 20,
    ) -> None:
        self.url = f"http://{address}/v1/feed"
        self.headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = last_event_id
        self.params = {"after": after} if after is not None else {}
        self.timeout = aiohttp.ClientTimeout(total=None, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self.response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> SseClient:
        self._session = aiohttp.ClientSession(timeout=self.timeout)
        self.response = await self._session.get(self.url, headers=self.headers, params=self.params)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.response is not None:
            self.response.close()
        if self._session is not None:
            await self._session.close()

    async def next(self) -> SseEvent | None:
        """The next event (comments skipped); None when the stream ended."""
        assert self.response is not None
        fields: dict[str, str] = {}
        while True:
            raw = await self.response.content.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if line == "":
                if "data" in fields or "event" in fields:
                    return SseEvent(
                        fields.get("event", "message"),
                        fields.get("id"),
                        json.loads(fields["data"]) if "data" in fields else None,
                    )
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    async def changes_until_caught_up(self) -> list[SseEvent]:
        out = []
        while (event := await self.next()) is not None:
            if event.event == "caught-up":
                return out
            assert event.event == "change", event
            out.append(event)
        raise AssertionError(f"stream ended before caught-up after {len(out)} events")

    async def changes(self, n: int) -> list[SseEvent]:
        out: list[SseEvent] = []
        while len(out) < n:
            event = await self.next()
            assert event is not None, f"stream ended after {len(out)} of {n} events"
            if event.event == "change":
                out.append(event)
        return out


# -- a portal keeping its own copy of the national view -------------------------------------------


class PortalCache:
    """A portal's copy built only from feed events: {(center, id): record} per kind."""

    def __init__(self) -> None:
        self.equipment: dict[tuple[str, str], Any] = {}
        self.entries: dict[tuple[str, str], Any] = {}
        self.stale: dict[str, bool] = {}
        self.token = ""
        self.events = 0
        self._lock = threading.Lock()

    def apply(self, token: str, center_id: str, kind: str, rid: str, op: str, record: Any) -> None:
        with self._lock:
            self.events += 1
            self.token = token
            if kind == "center":
                self.stale[center_id] = op == "stale"
                return
            table = self.equipment if kind == "equipment" else self.entries
            if op == "delete":
                table.pop((center_id, rid), None)
            else:
                assert record is not None, (kind, rid, op)
                table[(center_id, rid)] = record

    def view(self, center_id: str) -> dict[str, Any]:
        """The shape of tests.helpers.e2e's view records: {eq id: (name_ko, name_en,
        category, status, {entry id: (start, end, kind)})}; entries of unknown equipment
        are left out, as the national view leaves them out."""
        with self._lock:
            out: dict[str, Any] = {
                rid: (e["name_ko"], e["name_en"], e["category"], e["status"], {})
                for (cid, rid), e in self.equipment.items()
                if cid == center_id
            }
            for (cid, rid), en in self.entries.items():
                eq = out.get(en["equipment_id"]) if cid == center_id else None
                if eq is not None:
                    eq[4][rid] = (en["start"], en["end"], en["kind"])
        return out


def _grpc_record(ev: Any) -> Any:
    """A gRPC FeedEvent's record in the JSON shape the SSE feed uses."""
    if ev.HasField("equipment"):
        eq = ev.equipment
        return {
            "name_ko": eq.name_ko,
            "name_en": eq.name_en,
            "category": eq.category,
            "status": codes.STATUS.code(eq.status),
        }
    if ev.HasField("entry"):
        en = ev.entry
        return {
            "equipment_id": en.equipment_id,
            "start": timeconv.iso(en.start.seconds),
            "end": timeconv.iso(en.end.seconds),
            "kind": codes.ENTRY_KIND.code(en.kind),
        }
    return None


_OPS = {
    pb.FEED_OP_UPSERT: "upsert",
    pb.FEED_OP_DELETE: "delete",
    pb.FEED_OP_CENTER_STALE: "stale",
    pb.FEED_OP_CENTER_FRESH: "fresh",
}


class Follower:
    """Follows the feed in a thread of its own (its own event loop) into a PortalCache.

    ``start()`` connects (resuming from the cache's token, if any), ``stop()`` disconnects;
    ``error`` holds what ended a session abnormally.
    """

    def __init__(self, connect: Callable[[PortalCache], Awaitable[None]]) -> None:
        self.cache = PortalCache()
        self.sessions = 0
        self.error: BaseException | None = None
        self._connect = connect
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._task: asyncio.Task[None] | None = None

    async def _session(self) -> None:
        self.sessions += 1
        try:
            await self._connect(self.cache)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the test through .error
            self.error = exc

    def start(self) -> None:
        async def spawn() -> None:
            self._task = asyncio.ensure_future(self._session())

        asyncio.run_coroutine_threadsafe(spawn(), self._loop).result(timeout=10)

    def stop(self) -> None:
        async def cancel() -> None:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

        asyncio.run_coroutine_threadsafe(cancel(), self._loop).result(timeout=10)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def sse_follower(address: str, key: str) -> Follower:
    async def follow(cache: PortalCache) -> None:
        async with SseClient(address, key, last_event_id=cache.token or None) as feed:
            assert feed.response is not None and feed.response.status == 200
            while (event := await feed.next()) is not None:
                if event.event == "change":
                    d = event.data
                    record = d["equipment"] if d["kind"] == "equipment" else d["entry"]
                    cache.apply(event.id or "", d["center_id"], d["kind"], d["id"], d["op"], record)

    return Follower(follow)


def watch_follower(address: str, credentials: grpc.ChannelCredentials) -> Follower:
    async def follow(cache: PortalCache) -> None:
        async with grpc.aio.secure_channel(address, credentials) as channel:
            call = grpc_services.FeedServiceStub(channel).Watch(
                pb.WatchRequest(after_token=cache.token)
            )
            async for message in call:
                for ev in message.events:
                    kind = (
                        "center" if not ev.HasField("key") else codes.RECORD_KIND.code(ev.key.kind)
                    )
                    rid = ev.center_id if kind == "center" else ev.key.id
                    cache.apply(ev.token, ev.center_id, kind, rid, _OPS[ev.op], _grpc_record(ev))

    return Follower(follow)
