"""EnrollmentService.Enroll: a one-time token and a CSR in, a certificate out.

The only method open to callers without a hub certificate (they present a bootstrap
certificate anyone can mint, see :mod:`proto.bootstrap` and :mod:`hub.auth`). The token is
the credential: it names the identity (center, portal or operator), never the CSR, whose
only use is its public key after its self-signature has been checked. A token is consumed
atomically together with recording the certificate it bought (``hub.store.tokens``), so one
token never yields two certificates. Failed attempts per peer address are braked
(:mod:`hub.ratelimit`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import grpc
from iplatform.v1 import identity_pb2_grpc

from hub import issuer, logs, token_format
from hub.config import HubConfig
from hub.errors import PkiError, StoreError
from hub.pki import csr_public_key
from hub.ratelimit import FailureLimiter, peer_host
from hub.store import Redemption, TokenInfo, TokenRejected
from hub.store import tokens as token_rules
from proto import identity, pb, timeconv

if TYPE_CHECKING:
    from hub.server import StoreAccess
    from hub.tls import ServerTls

log = logging.getLogger("hub.enroll")
Context = Any  # grpc.aio.ServicerContext


def _new_token_hint(token: TokenInfo | None) -> str:
    if token is None or token.kind == "center":
        center = token.name if token is not None else "ID"
        return f"ask the hub operator for a new token: iplat-hub token create --center {center}"
    return (
        "ask the hub operator for a new token: "
        f"iplat-hub client add {token.name} --role {token.kind} --token"
    )


def rejection_message(exc: TokenRejected, now: int) -> str:
    token = exc.token
    hint = _new_token_hint(token)
    if exc.reason == TokenRejected.USED:
        return f"this enrollment token was already used (tokens work once); {hint}"
    if exc.reason == TokenRejected.EXPIRED and token is not None:
        return f"this enrollment token expired at {timeconv.iso(token.expires_at)}; {hint}"
    if exc.reason == TokenRejected.VOIDED and token is not None:
        return (
            f"this enrollment token was withdrawn by the hub operator (voided, or "
            f"{token.kind} {token.name} evicted, banned or revoked); {hint}"
        )
    if exc.reason == TokenRejected.BANNED and token is not None:
        return (
            f"center {token.name} is banned on this hub; the hub operator must lift the ban "
            f"(iplat-hub center unban {token.name}) and issue a new token"
        )
    if exc.reason == TokenRejected.GONE and token is not None:
        return f"center {token.name} is no longer registered on this hub; ask the hub operator"
    return f"enrollment token not recognised (mistyped, or made by another hub); {hint}"


class EnrollmentService(identity_pb2_grpc.EnrollmentServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.EnrollmentService."""

    def __init__(
        self,
        access: StoreAccess,
        config: HubConfig,
        tls: ServerTls,
        limiter: FailureLimiter,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._store = access.store
        self._config = config
        self._tls = tls
        self._limiter = limiter
        self._clock = clock

    async def _fail(
        self, context: Context, host: str, code: grpc.StatusCode, details: str, **fields: Any
    ) -> NoReturn:
        self._limiter.failed(host)
        logs.event(
            log, "enroll_refused", logging.WARNING, peer=host, code=code.name, reason=details,
            **fields,
        )  # fmt: skip
        await context.abort(code, details)
        raise AssertionError("unreachable: context.abort raises")

    async def Enroll(self, request: Any, context: Context) -> Any:
        host = peer_host(context.peer())
        wait = self._limiter.retry_after(host)
        if wait is not None:
            logs.event(log, "enroll_braked", logging.WARNING, peer=host)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many failed enrollment attempts from {host}; retry in "
                f"{max(1, math.ceil(wait))} s with a valid token (check that it was copied "
                "whole, or ask the hub operator for a new one)",
            )
        try:
            token_id, secret_hash = token_format.parse(request.token)
        except ValueError as exc:
            await self._fail(context, host, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        try:
            # Checked before the token is touched: a bad CSR must not cost the token.
            csr_public_key(request.csr_pem)
        except PkiError as exc:
            logs.event(log, "enroll_bad_csr", logging.WARNING, peer=host, reason=str(exc))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{exc}; nothing was used up")
        now = int(self._clock())
        try:
            token = token_rules.check(
                await self._access.read(self._store.get_token, token_id), secret_hash, now
            )
            who = identity.make(self._config.trust_domain, token.kind, token.name)
            cert = await asyncio.to_thread(
                issuer.issue, self._config, request.csr_pem, who, now=float(now)
            )
            await self._access.write(
                self._store.redeem_token,
                token_id,
                secret_hash,
                now,
                Redemption(cert.serial, cert.not_after, cert.ca_fingerprint, context.peer()),
            )
        except TokenRejected as exc:
            refused: dict[str, Any] = {"token_id": token_id, "reason_code": exc.reason}
            if exc.token is not None and exc.token.kind == "center":
                refused["center_id"] = exc.token.name
            await self._fail(
                context, host, grpc.StatusCode.PERMISSION_DENIED, rejection_message(exc, now),
                **refused,
            )  # fmt: skip
        except PkiError as exc:
            # The CA files were being replaced (ca activate): nothing was used up.
            logs.event(log, "enroll_pki_error", logging.ERROR, peer=host, error=str(exc))
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub CA unavailable ({exc}); retry in a moment"
            )
        except StoreError as exc:
            logs.event(log, "store_error", logging.ERROR, peer=host, error=str(exc))
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry later"
            )
        fields: dict[str, Any] = (
            {"center_id": who.name} if who.kind == "center" else {"identity": who.uri}
        )
        logs.event(
            log,
            "enrolled",
            peer=host,
            token_id=token_id,
            serial=cert.serial,
            not_after=timeconv.iso(cert.not_after),
            agent_version=request.agent_version[:200],
            **fields,
        )
        return pb.EnrollResponse(
            identity_uri=who.uri,
            certificate_pem=cert.cert_pem,
            trust_bundle_pem=self._tls.material.bundle,
            not_after=timeconv.from_epoch(cert.not_after),
        )
