"""AvailabilityService: free-slot search and free/busy for portals and operators.

A thin layer over :mod:`hub.availability`: requests become a validated
:class:`~hub.availability.SearchQuery` (a :class:`~hub.availability.QueryError` becomes
INVALID_ARGUMENT naming the field), the engine runs on the store's worker threads, and
answers become messages. Callers are checked by :mod:`hub.auth` (portal and operator
roles). A search that finds nothing free is counted as demand for the upgrade program
(:mod:`hub.routing.search_demand`), in the background.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from iplatform.v1 import availability_pb2 as av
from iplatform.v1 import availability_pb2_grpc

from hub import logs
from hub.availability import (
    BusyKind,
    CenterFreshness,
    FreeBusy,
    NotFound,
    QueryError,
    SearchAnswer,
    SearchQuery,
    free_busy,
    search,
)
from hub.availability.query import DEFAULT_LIMIT, DEFAULT_SLOTS, DEFAULT_TIME_ZONE
from hub.errors import StoreError
from hub.routing import search_demand
from proto import codes, timeconv

if TYPE_CHECKING:
    from hub.routing.router import Router
    from hub.server import StoreAccess

log = logging.getLogger("hub.availability")

_BUSY_TYPES = {
    BusyKind.BUSY: av.BUSY_TYPE_BUSY,
    BusyKind.BUSY_TENTATIVE: av.BUSY_TYPE_BUSY_TENTATIVE,
    BusyKind.BUSY_UNAVAILABLE: av.BUSY_TYPE_BUSY_UNAVAILABLE,
}
_REASONS = {
    "NO_MATCH": av.SEARCH_REASON_CODE_NO_MATCH,
    "NONE_FREE": av.SEARCH_REASON_CODE_NONE_FREE,
    "ONLY_STALE": av.SEARCH_REASON_CODE_ONLY_STALE,
}


def _instant(request: Any, name: str) -> int:
    if not request.HasField(name):
        raise QueryError(name, f"{name} is required")
    return int(getattr(request, name).seconds)


def _code(cmap: codes.CodeMap, value: int, name: str) -> str | None:
    if value == 0:
        return None
    try:
        return cmap.code(value)
    except ValueError:
        raise QueryError(name, f"unknown {cmap.what} value {value}") from None


def query_from_request(request: Any) -> SearchQuery:
    """The request as a SearchQuery; raises QueryError."""
    if not request.HasField("duration"):
        raise QueryError("duration", "duration is required, e.g. 4h (14400s)")
    d = request.duration
    return SearchQuery(
        window_from=_instant(request, "window_start"),
        window_to=_instant(request, "window_end"),
        hours=(d.seconds + d.nanos / 1e9) / 3600,
        industry=_code(codes.INDUSTRY, request.industry, "industry"),
        category=request.category or None,
        capabilities=tuple(request.capabilities),
        region=request.region or None,
        stage=_code(codes.STAGE, request.stage, "stage"),
        service=_code(codes.SERVICE, request.service, "service"),
        text=request.text or None,
        time_zone=request.time_zone or DEFAULT_TIME_ZONE,
        limit=request.limit or DEFAULT_LIMIT,
        offset=request.offset,
        slots_per_result=request.slots_per_result or DEFAULT_SLOTS,
    )


def _ts(t: int) -> Timestamp:
    return timeconv.from_epoch(t)


def _center(c: CenterFreshness) -> Any:
    msg = av.AvailabilityCenter(
        id=c.id,
        name_ko=c.name_ko,
        name_en=c.name_en,
        industry=codes.INDUSTRY.value(c.industry),
        region=c.region,
        time_zone=c.time_zone,
        stale=c.stale,
    )
    if c.last_seen is not None:
        msg.last_seen.CopyFrom(_ts(c.last_seen))
    if c.last_sync is not None:
        msg.last_sync.CopyFrom(_ts(c.last_sync))
    return msg


def search_response(answer: SearchAnswer) -> Any:
    response = av.SearchResponse(generated_at=_ts(answer.generated_at), matched=answer.matched)
    if answer.total is not None:
        response.total = answer.total
    if answer.next_offset is not None:
        response.next_offset = answer.next_offset
    for r in answer.results:
        response.results.append(
            av.AvailabilityResult(
                center=_center(r.center),
                equipment_id=r.equipment_id,
                name_ko=r.name_ko,
                name_en=r.name_en,
                category=r.category,
                capabilities=list(r.capabilities),
                status=codes.STATUS.value(r.status),
                stages=[codes.STAGE.value(s) for s in r.stages],
                services=[codes.SERVICE.value(s) for s in r.services],
                stale=r.stale,
                slots=[
                    av.FreeSlot(start=_ts(s.start), end=_ts(s.end), unconfirmed=s.unconfirmed)
                    for s in r.slots
                ],
            )
        )
    for reason in answer.reasons:
        msg = av.SearchReason(code=_REASONS[str(reason.code)], message=reason.message)
        if reason.earliest_free is not None:
            msg.earliest_free.CopyFrom(_ts(reason.earliest_free))
        response.reasons.append(msg)
    return response


def free_busy_response(fb: FreeBusy) -> Any:
    return av.GetFreeBusyResponse(
        center=_center(fb.center),
        window_start=_ts(fb.window_from),
        window_end=_ts(fb.window_to),
        equipment=[
            av.EquipmentFreeBusy(
                equipment_id=e.equipment_id,
                status=codes.STATUS.value(e.status),
                busy=[
                    av.BusyPeriod(start=_ts(p.start), end=_ts(p.end), type=_BUSY_TYPES[p.kind])
                    for p in e.busy
                ],
            )
            for e in fb.equipment
        ],
    )


class AvailabilityService(availability_pb2_grpc.AvailabilityServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.AvailabilityService (callers are checked by hub.auth)."""

    def __init__(
        self,
        access: StoreAccess,
        stale_after_seconds: int,
        clock: Callable[[], float] = time.time,
        router: Router | None = None,
    ) -> None:
        self._access = access
        self._stale_after = stale_after_seconds
        self._clock = clock
        self._router = router
        """Counts searches that found nothing free as demand (None: not counted)."""

    async def _unavailable(self, context: Any, exc: StoreError) -> None:
        logs.event(log, "store_error", logging.ERROR, error=str(exc))
        await context.abort(
            grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry later"
        )

    async def Search(self, request: Any, context: Any) -> Any:
        try:
            query = query_from_request(request)
        except QueryError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field}: {exc}")
        now = int(self._clock())
        try:
            answer = await self._access.read(
                search, self._access.store, query, now, self._stale_after
            )
        except StoreError as exc:
            await self._unavailable(context, exc)
        search_demand.note_search(self._router, answer, query.category, query.offset)
        return search_response(answer)

    async def GetFreeBusy(self, request: Any, context: Any) -> Any:
        now = int(self._clock())
        try:
            window = (_instant(request, "window_start"), _instant(request, "window_end"))
            fb = await self._access.read(
                free_busy,
                self._access.store,
                request.center_id,
                request.equipment_id or None,
                window,
                now=now,
                stale_after=self._stale_after,
            )
        except QueryError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field}: {exc}")
        except NotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except StoreError as exc:
            await self._unavailable(context, exc)
        return free_busy_response(fb)
