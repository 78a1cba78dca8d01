"""FeedService.Watch: the live change feed over gRPC (server streaming).

The stream reads the change log in pages from the caller's token and sends each page as
one WatchResponse; once it reached the head it says ``caught_up`` and waits on the
process's :class:`~hub.feed.FeedFollower` for the next commit. Callers are checked by
:mod:`hub.auth` when the call starts; because a Watch lives for hours, the caller's
certificate is checked against revocations again whenever the stream wakes, and the
stream ends with the refusal once it is evicted or revoked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import grpc
from iplatform.v1 import feed_pb2_grpc

from hub import auth, logs
from hub.errors import StoreError
from hub.feed import FeedFollower, tokens
from hub.store import CenterFreshness, FeedEvent, FeedPositionAhead, FeedPositionGone
from hub.store import changelog as cl
from proto import codes, pb, timeconv

if TYPE_CHECKING:
    from hub.server import StoreAccess

log = logging.getLogger("hub.feed")

PAGE = 500
"""Events per WatchResponse (a few hundred KiB at most)."""
IDLE_WAKE_SECONDS = 30.0
"""An idle stream wakes this often to re-check the caller's certificate."""

_OPS = {
    cl.UPSERT: pb.FEED_OP_UPSERT,
    cl.DELETE: pb.FEED_OP_DELETE,
    cl.STALE: pb.FEED_OP_CENTER_STALE,
    cl.FRESH: pb.FEED_OP_CENTER_FRESH,
}


def center_state(c: CenterFreshness) -> Any:
    msg = pb.FeedCenterState(center_id=c.center_id, connected=c.connected, stale=c.stale)
    if c.last_sync is not None:
        msg.last_sync.CopyFrom(timeconv.from_epoch(c.last_sync))
    if c.last_seen is not None:
        msg.last_seen.CopyFrom(timeconv.from_epoch(c.last_seen))
    return msg


def event_message(ev: FeedEvent, centers: dict[str, CenterFreshness]) -> Any:
    """One change-log event as the wire message."""
    msg = pb.FeedEvent(
        token=tokens.encode(ev.position),
        center_id=ev.center_id,
        op=_OPS[ev.op],
        at=timeconv.from_epoch(ev.at),
    )
    if ev.kind != cl.CENTER:
        msg.key.CopyFrom(pb.RecordKey(kind=codes.RECORD_KIND.value(ev.kind), id=ev.record_id))
    if ev.equipment is not None:
        msg.equipment.CopyFrom(ev.equipment)
    elif ev.entry is not None:
        msg.entry.CopyFrom(ev.entry)
    center = centers.get(ev.center_id)
    if center is not None:
        msg.center.CopyFrom(center_state(center))
    return msg


class FeedService(feed_pb2_grpc.FeedServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.FeedService."""

    def __init__(
        self,
        access: StoreAccess,
        follower: FeedFollower,
        stale_after: int,
        authenticator: auth.Authenticator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._follower = follower
        self._stale_after = stale_after
        self._authenticator = authenticator
        self._clock = clock

    async def Watch(self, request: Any, context: Any) -> AsyncIterator[Any]:
        try:
            position = tokens.decode(request.after_token)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"after_token: {exc}")
        store = self._access.store
        logs.event(log, "watch_start", peer=context.peer(), after=position)
        announced = False
        while True:
            try:
                page = await self._access.read(
                    store.read_feed, position, PAGE, int(self._clock()), self._stale_after
                )
            except (FeedPositionGone, FeedPositionAhead) as exc:
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"{exc} (GetNationalView with include_entries returns the snapshot and "
                    "its feed_token)",
                )
            except StoreError as exc:
                logs.event(log, "store_error", logging.ERROR, error=str(exc))
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE,
                    f"hub database unavailable ({exc}); retry with your last token",
                )
            at_head = page.next_position >= page.head
            if page.events:
                position = page.next_position
                yield pb.WatchResponse(
                    events=[event_message(ev, page.centers) for ev in page.events],
                    token=tokens.encode(position),
                    caught_up=at_head,
                )
                announced = announced or at_head
                if not at_head:
                    continue
            elif not announced:
                yield pb.WatchResponse(token=tokens.encode(position), caught_up=True)
                announced = True
            await self._follower.wait_beyond(position, IDLE_WAKE_SECONDS)
            if self._follower.closed:
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE,
                    "hub shutting down; call Watch again with your last token",
                )
            await self._recheck(context)

    async def _recheck(self, context: Any) -> None:
        """End the stream once the caller's certificate is revoked (evict, CA retire)."""
        authn = self._authenticator
        if authn is None or authn.revocations is None:
            return
        try:
            caller = authn.caller(context)
        except auth.Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            return
        if caller.identity is None:
            return
        refusal = authn.revocations.refusal(caller.identity, caller.serial)
        if refusal is not None:
            code, details = refusal
            logs.event(log, "watch_revoked", identity=caller.identity.uri)
            await context.abort(code, details)
