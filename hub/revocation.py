"""What the serving hub refuses right now: revoked certificates and banned centers.

``iplat-hub center evict|ban|unban`` and ``iplat-hub client revoke`` run in another process
and write the database (``hub.store.access``). The serving hub keeps an in-memory
:class:`Revocations` snapshot, checked on every call by :mod:`hub.auth` (not only at the
handshake: a revoked certificate's open connection must not keep working), and
:func:`follow` refreshes it whenever the access log grows, then ends the affected centers'
streams (portals and operators hold none: their next call is refused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc

from hub import logs
from hub.store import AccessEvent, RevocationSnapshot
from proto import identity as ident

if TYPE_CHECKING:
    from hub.server import StoreAccess
    from hub.sync_service import SyncService

log = logging.getLogger("hub.revocation")

Refusal = tuple[grpc.StatusCode, str]


def token_hint(who: ident.Identity) -> str:
    if who.kind == "center":
        return f"iplat-hub token create --center {who.name}"
    return f"iplat-hub client add {who.name} --role {who.kind} --token"


class Revocations:
    """The refusal rules as of one access-log position; replaced as a whole on change."""

    def __init__(self, snapshot: RevocationSnapshot) -> None:
        self._snapshot = snapshot

    @property
    def seq(self) -> int:
        return self._snapshot.seq

    def update(self, snapshot: RevocationSnapshot) -> None:
        self._snapshot = snapshot

    def refusal(self, who: ident.Identity, serial_hex: str) -> Refusal | None:
        """Why a caller with this identity and certificate serial is refused, or None."""
        snap = self._snapshot
        if who.kind == "center" and who.name in snap.banned_centers:
            return (
                grpc.StatusCode.PERMISSION_DENIED,
                f"center {who.name} is banned on this hub; its operator must lift the ban "
                f"(iplat-hub center unban {who.name}) and issue a new enrollment token",
            )
        if serial_hex in snap.revoked_serials:
            return (
                grpc.StatusCode.UNAUTHENTICATED,
                f"certificate {serial_hex} of {who.uri} was revoked ({who.kind} "
                f"{'evicted' if who.kind == 'center' else 'revoked'} by the hub operator); "
                f"ask the hub operator for a new token: {token_hint(who)}, then enroll again",
            )
        return None


def close_reason(event: AccessEvent) -> Refusal:
    if event.action == "ban":
        return (
            grpc.StatusCode.PERMISSION_DENIED,
            f"center {event.name} was banned by the hub operator; ask them to lift the ban",
        )
    return (
        grpc.StatusCode.UNAUTHENTICATED,
        f"center {event.name} was evicted by the hub operator and its certificates revoked; "
        f"ask for a new token: iplat-hub token create --center {event.name}",
    )


async def follow(
    access: StoreAccess,
    revocations: Revocations,
    sync: SyncService,
    clock: Callable[[], float],
) -> None:
    """One poll: if the access log grew, reload the snapshot and end affected streams."""
    store = access.store
    if await access.read(store.last_access_event) <= revocations.seq:
        return
    snapshot = await access.read(store.revocation_snapshot, int(clock()))
    # Events up to the snapshot's position, read after it: one committed between the two
    # reads is in the snapshot, so its stream must be closed now, not skipped.
    events: list[AccessEvent] = []
    after = revocations.seq
    while after < snapshot.seq:
        batch = await access.read(store.access_events_since, after)
        if not batch:
            break
        events.extend(e for e in batch if e.seq <= snapshot.seq)
        after = batch[-1].seq
    revocations.update(snapshot)
    for event in events:
        _report(event, sync)


def _report(event: AccessEvent, sync: SyncService) -> None:
    """Log one access event; end the stream of an evicted or banned center."""
    if event.action == "void":  # one token voided: nothing is connected with it
        logs.event(
            log, "token_voided", logging.INFO, kind=event.kind, holder=event.name,
            seq=event.seq, reason=event.reason,
        )  # fmt: skip
        return
    if event.kind != "center":
        logs.event(
            log, "client_revoked", logging.WARNING, kind=event.kind, client=event.name,
            seq=event.seq, reason=event.reason,
        )  # fmt: skip
        return
    closed = False
    if event.action in ("evict", "ban"):
        code, details = close_reason(event)
        closed = sync.close(event.name, code, details)
    logs.event(
        log,
        f"center_{event.action}",
        logging.WARNING if event.action != "unban" else logging.INFO,
        center_id=event.name,
        seq=event.seq,
        reason=event.reason,
        stream_closed=closed,
    )
