"""The live change feed: tokens and the follower that wakes readers when changes commit.

The log itself is :mod:`hub.store.changelog` (appended inside the apply transaction).
Two readers serve it: gRPC ``FeedService.Watch`` (:mod:`hub.feed_service`) and the HTTP
API's ``GET /v1/feed`` (Server-Sent Events) and ``GET /v1/feed/changes`` (polling), in
:mod:`hub.http.routes_feed`. Both resume from the same tokens (:mod:`hub.feed.tokens`).
"""

from __future__ import annotations

from hub.feed import tokens
from hub.feed.follower import FeedFollower

__all__ = ["FeedFollower", "tokens"]
