"""Errors of one-stop routing. Messages say what state things are in and what to do next.

::

    RequestInvalid(ValueError)     field errors of a draft (hub.routing.model; validate.py)
    RequestNotFound(LookupError)   unknown request id, or one submitted by another caller:
                                   HTTP 404 / gRPC NOT_FOUND (a portal never learns that
                                   another portal's request exists)
    RoutingConflict(ValueError)    the operation does not fit the request's current state
                                   (respond to an item that is not proposed, reassign an
                                   accepted item, a target that cannot serve the need):
                                   HTTP 409 / gRPC FAILED_PRECONDITION
    DeliveryAhead(ValueError)      an agent acknowledged a delivery seq the hub never
                                   allocated: a protocol error, the stream is aborted with
                                   INVALID_ARGUMENT and nothing is applied

Database failures are not translated here: they stay :class:`hub.errors.StoreError`.
"""

from __future__ import annotations

from hub.routing.model import RequestInvalid


class RequestNotFound(LookupError):
    """No such request (for this caller)."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(
            f"request {request_id!r} not found; check the id (list yours with ListRequests)"
        )


class RoutingConflict(ValueError):
    """The request or item is not in a state that allows the operation; nothing changed."""


class DeliveryAhead(ValueError):
    """A DeliveryAck above the highest seq the hub allocated for the center."""

    def __init__(self, center_id: str, seq: int, highest: int) -> None:
        self.center_id, self.seq, self.highest = center_id, seq, highest
        super().__init__(
            f"DeliveryAck seq {seq} is above the highest delivery seq {highest} the hub "
            f"allocated for center {center_id}; nothing applied: the agent's delivery state "
            "does not belong to this hub's database"
        )


__all__ = ["DeliveryAhead", "RequestInvalid", "RequestNotFound", "RoutingConflict"]
