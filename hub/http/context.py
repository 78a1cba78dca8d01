"""What every route handler needs: the store, the feed follower, settings, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from hub.config import HubConfig
from hub.feed import FeedFollower

if TYPE_CHECKING:
    from hub.http.routes_ops import OpsContext
    from hub.routing.router import Router
    from hub.server import StoreAccess
    from hub.store import Store


@dataclass(frozen=True)
class ApiContext:
    access: StoreAccess
    follower: FeedFollower
    config: HubConfig
    clock: Callable[[], float] = field(default=time.time)
    ops: OpsContext | None = None
    """Operator health for /metrics and the dashboard (hub.http.routes_ops); None: off."""
    router: Router | None = None
    """One-stop requests (hub.routing.router); None: the routes answer 503."""

    @property
    def store(self) -> Store:
        return self.access.store

    @property
    def stale_after(self) -> int:
        return self.config.sync.stale_after_seconds

    def now(self) -> int:
        return int(self.clock())


CONTEXT = web.AppKey("iplat_context", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]
