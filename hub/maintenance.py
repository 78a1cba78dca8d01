"""Makes the serving hub follow changes other processes make: evictions, bans, client
revocations and voided tokens (database), and CA rotation steps (files under DATA_DIR/pki).

``iplat-hub center evict|ban``, ``iplat-hub client revoke``, ``iplat-hub token void`` and
``iplat-hub ca prepare|activate|retire`` are separate
processes. Every ``[server] reload_poll_seconds`` (default 0.4 s) the serving hub runs one
cheap check of each — an index probe on the access log and four ``stat`` calls — and acts
only when something changed:

- access log grew: reload the revocation snapshot (every call checks it), end the named
  centers' streams;
- trust bundle changed: serve it (new handshakes trust it), push it to every connected
  agent as ``Control.trust_bundle``, and end streams whose certificate no trusted CA issued
  any more (after ``ca retire``);
- active CA changed: serve the new server certificate and ask every agent to renew
  (``Control.renew``).

A newly connected agent gets the bundle right after Welcome while a rotation is in
progress (several CAs trusted), and a renew request if a CA other than the active one
issued its certificate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc

from hub import auth, logs, revocation
from hub.errors import StoreError
from hub.revocation import Revocations
from hub.tls import ServerTls, TlsChange, issued_by
from proto import pb

if TYPE_CHECKING:
    from hub.server import StoreAccess
    from hub.sync_service import Session, SyncService

log = logging.getLogger("hub.maintenance")


class Maintenance:
    """The serving hub's follower of out-of-process changes (see the module docstring)."""

    def __init__(
        self,
        access: StoreAccess,
        sync: SyncService,
        tls: ServerTls,
        revocations: Revocations,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._sync = sync
        self._tls = tls
        self._revocations = revocations
        self._interval = interval
        self._clock = clock

    async def run(self) -> None:
        """Poll until cancelled. A failing poll is logged and retried on the next tick."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.poll_once()
            except StoreError as exc:
                logs.event(log, "revocation_poll_failed", logging.WARNING, error=str(exc))
            except Exception:
                # This loop is what enforces evictions; it must outlive a bug in one poll.
                log.exception("maintenance_poll_crashed")

    async def poll_once(self) -> None:
        await revocation.follow(self._access, self._revocations, self._sync, self._clock)
        change = await asyncio.to_thread(self._tls.reload)
        if change is not None:
            await self._apply(change)

    async def _apply(self, change: TlsChange) -> None:
        material = self._tls.material
        if change.bundle_changed:
            pushed = await self._sync.broadcast(
                pb.SyncResponse(
                    control=pb.Control(
                        trust_bundle=pb.TrustBundleUpdate(trust_bundle_pem=material.bundle)
                    )
                )
            )
            logs.event(log, "trust_bundle_pushed", sessions=pushed, cas=len(material.cas))
            self._close_untrusted()
        if change.active_changed:
            reason = f"the hub's CA changed to {material.active_fingerprint}; renew now"
            asked = await self._sync.broadcast(
                pb.SyncResponse(control=pb.Control(renew=pb.RenewRequest(reason=reason)))
            )
            logs.event(log, "renew_requested", sessions=asked, ca=material.active_fingerprint)

    def _close_untrusted(self) -> None:
        cas = self._tls.material.cas
        for session in self._sync.sessions():
            try:
                cert = auth.peer_certificate(session.context)
            except auth.Unauthenticated:
                cert = None
            if cert is not None and not any(issued_by(cert, ca) for ca in cas):
                self._sync.close(
                    session.center_id,
                    grpc.StatusCode.UNAUTHENTICATED,
                    "your certificate's CA was retired by the hub; enroll again with a new "
                    f"token (iplat-hub token create --center {session.center_id})",
                )
                logs.event(log, "retired_ca_session_closed", center_id=session.center_id)

    async def on_session_start(self, session: Session) -> None:
        material = self._tls.material
        if len(material.cas) > 1:
            await self._sync.push(
                session,
                pb.SyncResponse(
                    control=pb.Control(
                        trust_bundle=pb.TrustBundleUpdate(trust_bundle_pem=material.bundle)
                    )
                ),
            )
        try:
            cert = auth.peer_certificate(session.context)
        except auth.Unauthenticated:
            return
        if cert is not None and not issued_by(cert, material.active_ca):
            await self._sync.push(
                session,
                pb.SyncResponse(
                    control=pb.Control(
                        renew=pb.RenewRequest(
                            reason="your certificate was issued by the hub's previous CA; "
                            "renew it now"
                        )
                    )
                ),
            )
            logs.event(log, "renew_requested", center_id=session.center_id, on_connect=True)
