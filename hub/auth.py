"""Who is calling, and may they call this method.

The caller's identity is the SPIFFE URI SAN of the client certificate the TLS handshake
verified (``context.auth_context()["x509_pem_cert"]``), never a request field. One table,
:data:`ALLOWED`, maps an identity kind to the full method names it may call; everything
else is PERMISSION_DENIED. :class:`AuthInterceptor` enforces the table in front of every
service, so a new service is closed until someone adds it here.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc
from cryptography import x509

from hub import logs
from proto import identity as ident

log = logging.getLogger("hub.auth")

SYNC = "/iplatform.v1.SyncService/Sync"
GET_NATIONAL_VIEW = "/iplatform.v1.ViewService/GetNationalView"

ALLOWED: Mapping[str, frozenset[str]] = {
    # Agents push their own center's data and nothing else.
    "center": frozenset({SYNC}),
    "portal": frozenset({GET_NATIONAL_VIEW}),
    "operator": frozenset({GET_NATIONAL_VIEW}),
}
"""Identity kind -> full method names it may call (besides :data:`OPEN`)."""

OPEN: frozenset[str] = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)
"""Methods any peer holding a valid certificate of this trust domain may call."""


class Unauthenticated(Exception):
    """The peer's certificate carries no usable identity of our trust domain."""


def peer_identity(context: grpc.aio.ServicerContext[Any, Any], trust_domain: str) -> ident.Identity:
    """The caller's identity from its verified client certificate.

    Raises :class:`Unauthenticated` when there is no certificate, no single SPIFFE URI SAN,
    or the identity belongs to another trust domain.
    """
    pems = context.auth_context().get("x509_pem_cert") or []
    if not pems:
        raise Unauthenticated("no client certificate")
    try:
        cert = x509.load_pem_x509_certificate(bytes(next(iter(pems))))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound) as exc:
        raise Unauthenticated(f"client certificate unreadable or without SANs: {exc}") from exc
    uris = [
        u
        for u in san.get_values_for_type(x509.UniformResourceIdentifier)
        if u.startswith("spiffe://")
    ]
    if len(uris) != 1:
        raise Unauthenticated(f"client certificate has {len(uris)} SPIFFE URIs, expected one")
    try:
        who = ident.parse(uris[0])
    except ValueError as exc:
        raise Unauthenticated(str(exc)) from exc
    if who.trust_domain != trust_domain:
        raise Unauthenticated(f"identity {who.uri} is not in trust domain {trust_domain}")
    return who


def is_allowed(who: ident.Identity, method: str) -> bool:
    return method in OPEN or method in ALLOWED.get(who.kind, frozenset())


Behavior = Callable[..., Any]


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks every call against :data:`ALLOWED` before the servicer sees it.

    Interceptors get no ServicerContext, so the check wraps the method handler: the
    wrapper reads the peer certificate from the call's context, then runs the original
    behavior. Wrappers keep the original's shape (coroutine or async generator) because
    grpc.aio dispatches on it.
    """

    def __init__(self, trust_domain: str) -> None:
        self.trust_domain = trust_domain

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
            who = peer_identity(context, self.trust_domain)
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
        if not is_allowed(who, method):
            fields = {"center_id": who.name} if who.kind == "center" else {}
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
