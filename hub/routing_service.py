"""RoutingService: one-stop requests for portals and operators over mutual TLS.

A thin layer over :class:`hub.routing.router.Router`: messages become model values
(:mod:`hub.routing.convert`), the router validates, plans, stores and notifies the
centers' streams, and answers go back as messages. Errors map in one place
(:meth:`RoutingService._run`): field errors -> INVALID_ARGUMENT with one ``field:
message`` line per error (the field paths of the HTTP API), an unknown request ->
NOT_FOUND, an operation that does not fit the request's state -> FAILED_PRECONDITION,
the database -> UNAVAILABLE.

Who may do what comes from the caller's certificate, never a request field: the actor
recorded in the request's events is ``portal:<name>`` or ``operator:<name>``. A portal
sees and acts only on the requests it submitted; another portal's request is NOT_FOUND,
not PERMISSION_DENIED, so ids of other companies' requests cannot be probed. Operators
see all and alone may reassign (:mod:`hub.auth` refuses ReassignItem to portals too).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import grpc
from iplatform.v1 import routing_pb2_grpc

from hub import auth, logs
from hub.errors import StoreError
from hub.routing import convert, pages
from hub.routing.errors import RequestNotFound, RoutingConflict
from hub.routing.jsonbody import parse_target
from hub.routing.model import FieldError, RequestInvalid
from proto import codes, identity, pb, timeconv

if TYPE_CHECKING:
    from hub.routing.router import Router

log = logging.getLogger("hub.routing")
T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CLIENT_REQUEST_ID = 128
MAX_REASON = 500
MAX_CATEGORY = 200
MAX_ID = 64


def field_lines(errors: list[FieldError]) -> str:
    """The INVALID_ARGUMENT details: one ``field: message`` per line."""
    return "\n".join(f"{e.field}: {e.message}" for e in errors)


@dataclass(frozen=True)
class Actor:
    """Who calls: the name recorded in events, and whose requests they may see."""

    name: str
    """``portal:<name>`` / ``operator:<name>``."""
    operator: bool

    @property
    def submitted_by(self) -> str | None:
        """The ``submitted_by`` filter: the caller's own requests, or None (all)."""
        return None if self.operator else self.name


async def _abort(context: Any, code: grpc.StatusCode, details: str) -> NoReturn:
    await context.abort(code, details)
    raise AssertionError("context.abort returned")  # grpc raises; keeps mypy honest


async def _invalid(context: Any, field: str, message: str) -> NoReturn:
    await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {message}")


def _valid_id(value: str) -> bool:
    return 0 < len(value) <= MAX_ID and value.isprintable()


class RoutingService(routing_pb2_grpc.RoutingServiceServicer):  # type: ignore[misc]
    """Servicer of iplatform.v1.RoutingService (callers are checked by hub.auth)."""

    def __init__(self, router: Router, trust_domain: str) -> None:
        self._router = router
        self._trust_domain = trust_domain

    async def _actor(self, context: Any) -> Actor:
        try:
            who = auth.peer_identity(context, self._trust_domain)
        except auth.Unauthenticated as exc:
            await _abort(context, grpc.StatusCode.UNAUTHENTICATED, str(exc))
        return Actor(f"{who.kind}:{who.name}", who.kind == "operator")

    async def _run(self, context: Any, call: Awaitable[T]) -> T:
        """Await a router call, mapping its errors to statuses (the one error boundary)."""
        try:
            return await call
        except RequestInvalid as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, field_lines(exc.errors))
        except RequestNotFound as exc:
            await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
        except RoutingConflict as exc:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except StoreError as exc:
            logs.event(log, "store_error", logging.ERROR, error=str(exc))
            await _abort(
                context, grpc.StatusCode.UNAVAILABLE, f"hub database unavailable ({exc}); retry"
            )

    async def _request_id(self, context: Any, value: str, field: str) -> str:
        if not value:
            await _invalid(context, field, "is required")
        if not _valid_id(value):
            # Not a shape any request id has: unknown, as every other unknown id.
            await _abort(context, grpc.StatusCode.NOT_FOUND, str(RequestNotFound(value[:80])))
        return value

    async def PreviewRequest(self, request: Any, context: Any) -> Any:
        await self._actor(context)
        draft = convert.draft_from_pb(request.draft)
        return convert.plan_to_pb(await self._run(context, self._router.preview(draft)))

    async def SubmitRequest(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        crid = request.client_request_id
        if len(crid) > MAX_CLIENT_REQUEST_ID or not crid.isprintable():
            await _invalid(
                context,
                "client_request_id",
                f"use at most {MAX_CLIENT_REQUEST_ID} printable characters (e.g. a UUID)",
            )
        draft = convert.draft_from_pb(request.draft)
        view, _ = await self._run(
            context, self._router.submit(draft, actor=actor.name, client_request_id=crid)
        )
        logs.event(log, "request_submitted", request_id=view.id, actor=actor.name)
        return pb.SubmitRequestResponse(request=convert.request_to_pb(view))

    async def GetRequest(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        rid = await self._request_id(context, request.id, "id")
        view = await self._run(context, self._router.get(rid, submitted_by=actor.submitted_by))
        return pb.GetRequestResponse(request=convert.request_to_pb(view))

    async def ListRequests(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        state = convert.code_of(convert.REQUEST_STATE, request.state) or None
        if state is not None and state not in convert.REQUEST_STATE:
            await _invalid(context, "state", f"unknown request state value {request.state}")
        center = request.center_id or None
        if center is not None and not identity.valid_name(center):
            await _invalid(context, "center_id", f"{center[:80]!r} is not a center id")
        if request.limit > MAX_LIMIT:
            await _invalid(context, "limit", f"use 1..{MAX_LIMIT} (0 means {DEFAULT_LIMIT})")
        filters = [("state", state), ("center", center), ("by", actor.submitted_by)]
        before = None
        if request.page_token:
            try:
                before = pages.decode(request.page_token, filters)
            except ValueError as exc:
                await _invalid(context, "page_token", str(exc))
        listing = self._router.list(
            state=state,
            center_id=center,
            submitted_by=actor.submitted_by,
            limit=request.limit or DEFAULT_LIMIT,
            before=before,
        )
        try:
            views, next_before = await self._run(context, listing)
        except ValueError as exc:  # a token of the right shape holding a key never made
            await _invalid(context, "page_token", str(exc))
        return pb.ListRequestsResponse(
            requests=[convert.request_to_pb(v) for v in views],
            next_page_token=pages.encode(next_before, filters) if next_before else "",
        )

    async def RespondToProposal(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        rid = await self._request_id(context, request.request_id, "request_id")
        if not request.item_id:
            await _invalid(context, "item_id", "is required")
        view, _ = await self._run(
            context,
            self._router.respond_to_proposal(
                rid,
                request.item_id,
                request.accept,
                actor=actor.name,
                submitted_by=actor.submitted_by,
            ),
        )
        return pb.RespondToProposalResponse(request=convert.request_to_pb(view))

    async def CancelRequest(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        rid = await self._request_id(context, request.id, "id")
        if len(request.reason) > MAX_REASON:
            await _invalid(context, "reason", f"is {len(request.reason)} characters; at most 500")
        view, _ = await self._run(
            context,
            self._router.cancel(
                rid, actor=actor.name, reason=request.reason, submitted_by=actor.submitted_by
            ),
        )
        return pb.CancelRequestResponse(request=convert.request_to_pb(view))

    async def ReassignItem(self, request: Any, context: Any) -> Any:
        actor = await self._actor(context)
        if not actor.operator:  # hub.auth refuses it already; never rely on one check
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED, "operators only")
        rid = await self._request_id(context, request.request_id, "request_id")
        if not request.item_id:
            await _invalid(context, "item_id", "is required")
        if len(request.reason) > MAX_REASON:
            await _invalid(context, "reason", f"is {len(request.reason)} characters; at most 500")
        try:
            target = parse_target(request.target)
        except ValueError as exc:
            await _invalid(context, "target", str(exc))
        view, _ = await self._run(
            context,
            self._router.reassign(
                rid, request.item_id, target, actor=actor.name, reason=request.reason
            ),
        )
        return pb.ReassignItemResponse(request=convert.request_to_pb(view))

    async def ListDemandSignals(self, request: Any, context: Any) -> Any:
        await self._actor(context)
        if len(request.category) > MAX_CATEGORY:
            await _invalid(context, "category", f"use at most {MAX_CATEGORY} characters")
        center = request.center_id or None
        if center is not None and not identity.valid_name(center):
            await _invalid(context, "center_id", f"{center[:80]!r} is not a center id")
        since = timeconv.to_epoch(request.since) if request.HasField("since") else None
        signals = await self._run(
            context,
            self._router.demand(since=since, category=request.category or None, center_id=center),
        )
        return pb.ListDemandSignalsResponse(signals=[convert.signal_to_pb(s) for s in signals])

    async def ListTechnologyAreas(self, request: Any, context: Any) -> Any:
        await self._actor(context)
        industry = convert.code_of(codes.INDUSTRY, request.industry) or None
        if industry is not None and industry not in codes.INDUSTRY:
            await _invalid(context, "industry", f"unknown industry value {request.industry}")
        guide = self._router.guide
        return convert.areas_to_pb(guide.for_industry(industry), guide.version)
