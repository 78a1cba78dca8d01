"""Who is calling, and may they call this method.

The caller's identity is the SPIFFE URI SAN of the client certificate the TLS handshake
verified (``context.auth_context()["x509_pem_cert"]``), never a request field. One table,
:data:`ALLOWED`, maps a role to the full method names it may call; everything else is
refused. :class:`AuthInterceptor` enforces it in front of every service, so a new service
is closed until someone adds it here.

Why a caller may have no identity: enrollment is served on the same port as Sync, so a
center's firewall needs one outbound rule, as SPIRE serves node attestation beside its
SVID API. The TLS handshake still verifies every certificate presented (expired and
foreign-CA certificates fail it), but a caller that has not enrolled yet presents a
bootstrap certificate (:mod:`proto.bootstrap`; grpcio cannot make client certificates
optional, see :mod:`hub.tls`). Every certificate issued by a bootstrap CA is
:data:`ANONYMOUS` here, whatever identity it names: it may call Enroll and health, and gets
UNAUTHENTICATED "this method needs a client certificate" for everything else. Because
anyone can derive a bootstrap CA's key from the hub CA's public certificate, every other
certificate is checked here to be issued directly by one of the hub's CAs; the handshake
alone is not trusted with that.

Revocation is checked on every call too (:mod:`hub.revocation`), not only at the
handshake: an evicted center's certificate stays cryptographically valid until it expires.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub import logs
from hub.pki import spiffe_uris
from hub.tls import issued_by
from proto import bootstrap
from proto import identity as ident

if TYPE_CHECKING:
    from hub.revocation import Revocations
    from hub.tls import ServerTls

log = logging.getLogger("hub.auth")

SYNC = "/iplatform.v1.SyncService/Sync"
GET_NATIONAL_VIEW = "/iplatform.v1.ViewService/GetNationalView"
WATCH = "/iplatform.v1.FeedService/Watch"
SEARCH = "/iplatform.v1.AvailabilityService/Search"
GET_FREE_BUSY = "/iplatform.v1.AvailabilityService/GetFreeBusy"
ENROLL = "/iplatform.v1.EnrollmentService/Enroll"
RENEW = "/iplatform.v1.CertificateService/RenewCertificate"
GET_TRUST_BUNDLE = "/iplatform.v1.CertificateService/GetTrustBundle"
_ROUTING_SERVICE = "/iplatform.v1.RoutingService/"
PREVIEW_REQUEST = _ROUTING_SERVICE + "PreviewRequest"
SUBMIT_REQUEST = _ROUTING_SERVICE + "SubmitRequest"
GET_REQUEST = _ROUTING_SERVICE + "GetRequest"
LIST_REQUESTS = _ROUTING_SERVICE + "ListRequests"
RESPOND_TO_PROPOSAL = _ROUTING_SERVICE + "RespondToProposal"
CANCEL_REQUEST = _ROUTING_SERVICE + "CancelRequest"
REASSIGN_ITEM = _ROUTING_SERVICE + "ReassignItem"
LIST_DEMAND_SIGNALS = _ROUTING_SERVICE + "ListDemandSignals"
LIST_TECHNOLOGY_AREAS = _ROUTING_SERVICE + "ListTechnologyAreas"

ANONYMOUS = "anonymous"
"""The role of callers presenting a bootstrap certificate (no identity yet)."""

_CERTIFICATES = frozenset({RENEW, GET_TRUST_BUNDLE})
# Free-slot search and free/busy (read-only, like the view).
_AVAILABILITY = frozenset({SEARCH, GET_FREE_BUSY})
# One-stop requests: portals submit and follow their own (the service filters by caller);
# moving an item to another center is an operator's decision.
_PORTAL_ROUTING = frozenset(
    {
        PREVIEW_REQUEST,
        SUBMIT_REQUEST,
        GET_REQUEST,
        LIST_REQUESTS,
        RESPOND_TO_PROPOSAL,
        CANCEL_REQUEST,
        LIST_DEMAND_SIGNALS,
        LIST_TECHNOLOGY_AREAS,
    }
)
_ROUTING = _PORTAL_ROUTING | {REASSIGN_ITEM}

ALLOWED: Mapping[str, frozenset[str]] = {
    # Agents push their own center's data and keep their own certificate fresh.
    "center": frozenset({SYNC}) | _CERTIFICATES,
    # Portals read the national view and follow its change feed (read-only), and submit
    # and follow one-stop requests.
    "portal": frozenset({GET_NATIONAL_VIEW, WATCH})
    | _AVAILABILITY
    | _CERTIFICATES
    | _PORTAL_ROUTING,
    # Operators read them too, and may reassign routed items.
    "operator": frozenset({GET_NATIONAL_VIEW, WATCH}) | _AVAILABILITY | _CERTIFICATES | _ROUTING,
    # No identity yet: the one-time token in the request is the credential.
    ANONYMOUS: frozenset({ENROLL}),
}
"""Role -> full method names it may call (besides :data:`OPEN` and :data:`IDENTIFIED`)."""

OPEN: frozenset[str] = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})
"""Methods every caller may use, the anonymous one included (load balancers, installers)."""

IDENTIFIED: frozenset[str] = frozenset(
    {
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)
"""Methods any caller with a certificate of this hub may use."""


class Unauthenticated(Exception):
    """The peer's certificate carries no usable identity of our trust domain."""


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one RPC."""

    role: str
    """The identity kind (center, portal, operator, hub) or :data:`ANONYMOUS`."""
    identity: ident.Identity | None
    """None for the anonymous caller."""
    serial: str = ""
    """Serial of the client certificate, lower-case hex (revocation is by serial)."""


def peer_certificate(context: grpc.aio.ServicerContext[Any, Any]) -> x509.Certificate | None:
    """The verified client certificate of the call, None without one."""
    pems = context.auth_context().get("x509_pem_cert") or []
    if not pems:
        return None
    try:
        return x509.load_pem_x509_certificate(bytes(next(iter(pems))))
    except ValueError as exc:
        raise Unauthenticated(f"client certificate unreadable: {exc}") from exc


def _identity(cert: x509.Certificate, trust_domain: str) -> ident.Identity:
    uris = spiffe_uris(cert)
    if len(uris) != 1:
        raise Unauthenticated(f"client certificate has {len(uris)} SPIFFE URIs, expected one")
    try:
        who = ident.parse(uris[0])
    except ValueError as exc:
        raise Unauthenticated(str(exc)) from exc
    if who.trust_domain != trust_domain:
        raise Unauthenticated(f"identity {who.uri} is not in trust domain {trust_domain}")
    return who


def peer_identity(context: grpc.aio.ServicerContext[Any, Any], trust_domain: str) -> ident.Identity:
    """The caller's identity from its verified client certificate.

    Raises :class:`Unauthenticated` when there is no certificate, no single SPIFFE URI
    SAN, or the identity belongs to another trust domain. It does not check the issuer:
    behind :class:`AuthInterceptor`, a bootstrap caller never reaches a method using it.
    """
    cert = peer_certificate(context)
    if cert is None:
        raise Unauthenticated("no client certificate")
    return _identity(cert, trust_domain)


class Authenticator:
    """Turns a call's peer certificate into a :class:`Caller`."""

    def __init__(
        self,
        trust_domain: str,
        tls: ServerTls | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        self.trust_domain = trust_domain
        self._tls = tls
        self.revocations = revocations
        # Issuer checks are ECDSA verifications; agents reconnect with the same certificate.
        self._issuers: dict[tuple[int, bytes], str | None] = {}

    def _issuer(self, cert: x509.Certificate, der: bytes) -> str | None:
        """Who issued ``cert``: "hub" (a hub CA), "bootstrap" (a bootstrap CA) or None."""
        if self._tls is None:
            return "hub"
        key = (self._tls.generation, der)
        if key in self._issuers:
            return self._issuers[key]
        cas = self._tls.material.cas
        found: str | None = None
        if bootstrap.is_bootstrap_issued(cert, cas):
            found = "bootstrap"
        elif any(issued_by(cert, ca) for ca in cas):
            found = "hub"
        if len(self._issuers) >= 4096:
            self._issuers.clear()
        self._issuers[key] = found
        return found

    def caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
        """Raises :class:`Unauthenticated`."""
        cert = peer_certificate(context)
        if cert is None:
            raise Unauthenticated("no client certificate")
        issuer = self._issuer(cert, cert.public_bytes(Encoding.DER))
        if issuer == "bootstrap":
            # Whatever it names: a bootstrap CA's key is public (proto.bootstrap).
            return Caller(ANONYMOUS, None)
        if issuer != "hub":
            raise Unauthenticated(
                "client certificate was not issued by a CA this hub trusts now (retired CA?); "
                "renew or enroll again"
            )
        who = _identity(cert, self.trust_domain)
        return Caller(who.kind, who, format(cert.serial_number, "x"))


def is_allowed(role: str, method: str) -> bool:
    if method in OPEN or method in ALLOWED.get(role, frozenset()):
        return True
    return role != ANONYMOUS and method in IDENTIFIED


Behavior = Callable[..., Any]


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks every call against :data:`ALLOWED` before the servicer sees it.

    Interceptors get no ServicerContext, so the check wraps the method handler: the
    wrapper reads the peer certificate from the call's context, then runs the original
    behavior. Wrappers keep the original's shape (coroutine or async generator) because
    grpc.aio dispatches on it.
    """

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap(handler.stream_stream, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap(handler.stream_unary, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap(handler.unary_stream, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            self._wrap(handler.unary_unary, method),
            handler.request_deserializer,
            handler.response_serializer,
        )

    async def _check(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        try:
            caller = self.authenticator.caller(context)
        except Unauthenticated as exc:
            logs.event(
                log,
                "unauthenticated",
                logging.WARNING,
                method=method,
                peer=context.peer(),
                reason=str(exc),
            )
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, f"{exc}; use a certificate issued by this hub"
            )
            return
        who = caller.identity
        if who is None:
            if not is_allowed(caller.role, method):
                logs.event(
                    log, "anonymous_refused", logging.INFO, method=method, peer=context.peer()
                )
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    f"{method}: this method needs a client certificate issued by this hub; "
                    "without one only Enroll is open: enroll with a token from the hub "
                    "operator (iplat-hub token create)",
                )
            return
        fields = {"center_id": who.name} if who.kind == "center" else {}
        revocations = self.authenticator.revocations
        refusal = revocations.refusal(who, caller.serial) if revocations else None
        if refusal is not None:
            code, details = refusal
            logs.event(
                log, "revoked_refused", logging.WARNING, method=method, identity=who.uri,
                serial=caller.serial, **fields,
            )  # fmt: skip
            await context.abort(code, details)
            return
        if not is_allowed(caller.role, method):
            logs.event(
                log, "permission_denied", logging.WARNING, method=method, identity=who.uri, **fields
            )
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{who.uri} may not call {method}; {who.kind} certificates are limited to "
                f"{', '.join(sorted(ALLOWED.get(who.kind, ()))) or 'health and reflection'}",
            )

    def _wrap(self, behavior: Behavior, method: str) -> Behavior:
        check = self._check
        if inspect.isasyncgenfunction(behavior):

            async def guarded_stream(
                request: Any, context: grpc.aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                await check(context, method)
                async for response in behavior(request, context):
                    yield response

            return guarded_stream
        if inspect.iscoroutinefunction(behavior):

            async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                await check(context, method)
                return await behavior(request, context)

            return guarded
        # Synchronous servicers would run in grpc's executor; the hub registers none.
        raise TypeError(f"{method}: synchronous servicers are not supported by the hub")
