"""CertificateService: renewal over the existing mutual-TLS channel, and the trust bundle.

``RenewCertificate`` renews the caller's *own* identity, read from the certificate it
connected with (never from the CSR or a request field), with the CSR's public key, signed
by the active CA. The interceptor (:mod:`hub.auth`) has already refused revoked
certificates and banned centers, so an evicted agent cannot renew its way back in.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import grpc
from iplatform.v1 import identity_pb2_grpc

from hub import auth, issuer, logs
from hub.config import HubConfig
from hub.errors import PkiError, StoreError, UnknownCenter
from hub.pki import csr_public_key
from proto import pb, timeconv

if TYPE_CHECKING:
    from collections.abc import Callable

    from hub.server import StoreAccess
    from hub.tls import ServerTls

log = logging.getLogger("hub.certificates")
Context = Any  # grpc.aio.ServicerContext


class CertificateService(identity_pb2_grpc.CertificateServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.CertificateService (callers are checked by hub.auth)."""

    def __init__(
        self,
        access: StoreAccess,
        config: HubConfig,
        tls: ServerTls,
        clock: Callable[[], float],
    ) -> None:
        self._access = access
        self._store = access.store
        self._config = config
        self._tls = tls
        self._clock = clock

    async def RenewCertificate(self, request: Any, context: Context) -> Any:
        try:
            who = auth.peer_identity(context, self._config.trust_domain)
        except auth.Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        fields: dict[str, Any] = (
            {"center_id": who.name} if who.kind == "center" else {"identity": who.uri}
        )
        try:
            csr_public_key(request.csr_pem)
        except PkiError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        now = int(self._clock())
        try:
            cert = await asyncio.to_thread(
                issuer.issue, self._config, request.csr_pem, who, now=float(now)
            )
            if who.kind == "center":
                await self._access.write(
                    self._store.record_certificate,
                    who.name,
                    cert.serial,
                    cert.not_after,
                    issued_at=now,
                    ca_fingerprint=cert.ca_fingerprint,
                )
            else:
                await self._access.write(
                    self._store.record_issued,
                    who.kind,
                    who.name,
                    cert.serial,
                    cert.not_after,
                    ca_fingerprint=cert.ca_fingerprint,
                    issued_at=now,
                )
        except UnknownCenter:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"center {who.name} is no longer registered on this hub; ask the hub operator",
            )
        except PkiError as exc:
            logs.event(log, "renew_pki_error", logging.ERROR, error=str(exc), **fields)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub CA unavailable ({exc}); retry in a moment"
            )
        except StoreError as exc:
            logs.event(log, "store_error", logging.ERROR, error=str(exc), **fields)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry later"
            )
        logs.event(
            log,
            "renewed",
            serial=cert.serial,
            ca=cert.ca_fingerprint,
            not_after=timeconv.iso(cert.not_after),
            **fields,
        )
        return pb.RenewCertificateResponse(
            certificate_pem=cert.cert_pem,
            trust_bundle_pem=self._tls.material.bundle,
            not_after=timeconv.from_epoch(cert.not_after),
        )

    async def GetTrustBundle(self, request: Any, context: Context) -> Any:
        material = self._tls.material
        return pb.GetTrustBundleResponse(
            trust_bundle_pem=material.bundle, active_ca_fingerprint=material.active_fingerprint
        )
