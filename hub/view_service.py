"""ViewService: the national view for portals and operators, with freshness per center."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from iplatform.v1 import view_pb2_grpc

from hub import logs
from hub.errors import StoreError, UnknownCenter
from hub.feed import tokens
from hub.store import CenterSnapshot
from proto import codes, identity, pb, timeconv

if TYPE_CHECKING:
    from hub.server import StoreAccess

log = logging.getLogger("hub.view")
MAX_CENTER_IDS = 1000


def center_view(snap: CenterSnapshot) -> Any:
    """One center of the national view as the wire message."""
    c, st = snap.center, snap.state
    view = pb.CenterView(
        id=c.id,
        name_ko=c.name_ko,
        name_en=c.name_en,
        industry=codes.INDUSTRY.value(c.industry),
        region=c.region,
        role=codes.ROLE.value(c.role),
        time_zone=c.time_zone,
        stale=snap.stale,
        equipment=[
            pb.EquipmentView(equipment=e.equipment, entries=e.entries) for e in snap.equipment
        ],
    )
    if st.last_sync is not None:
        view.last_sync.CopyFrom(timeconv.from_epoch(st.last_sync))
    if st.last_seen is not None:
        view.last_seen.CopyFrom(timeconv.from_epoch(st.last_seen))
    return view


def national_view_response(
    snapshots: Sequence[CenterSnapshot], now: int, feed_position: int = 0
) -> Any:
    return pb.GetNationalViewResponse(
        centers=[center_view(s) for s in snapshots],
        generated_at=timeconv.from_epoch(now),
        feed_token=tokens.encode(feed_position),
    )


class ViewService(view_pb2_grpc.ViewServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.ViewService (callers are checked by hub.auth)."""

    def __init__(
        self, access: StoreAccess, stale_after_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._access = access
        self._stale_after = stale_after_seconds
        self._clock = clock

    async def GetNationalView(self, request: Any, context: Any) -> Any:
        wanted = list(request.center_ids)
        if len(wanted) > MAX_CENTER_IDS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(wanted)} center_ids asked; ask for at most {MAX_CENTER_IDS} or none (all)",
            )
        bad = [c for c in wanted if not identity.valid_name(c)]
        if bad:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"invalid center id {bad[0][:80]!r} in center_ids"
            )
        now = int(self._clock())
        try:
            # Read before the view: following the feed from here can only replay changes
            # the view already holds (harmless), never skip one it lacks.
            head = await self._access.read(self._access.store.feed_head)
            snapshots = await self._access.read(
                self._access.store.national_view,
                now,
                self._stale_after,
                center_ids=wanted or None,
                include_entries=request.include_entries,
            )
        except UnknownCenter as exc:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"{exc}; omit center_ids to list every center"
            )
        except StoreError as exc:
            logs.event(log, "store_error", logging.ERROR, error=str(exc))
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry later"
            )
        return national_view_response(snapshots, now, head.last_id)
