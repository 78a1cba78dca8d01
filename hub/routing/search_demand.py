"""The ``search-none-free`` demand signal: a portal searched and nothing fresh was free.

The equipment-upgrade program wants to know what companies look for and cannot get.
Both search paths (gRPC ``AvailabilityService.Search`` and ``GET /v1/equipment/search``;
not the operator's CLI, whose look-ups are not demand) call :func:`note_search` with
their answer. Counting must never slow down or fail a search: the write runs as a
background task of the event loop, and a failure is only logged.

Only the first page counts (paging through one search is still one search), and only
answers whose reasons say there is no fresh free slot because nothing matches
(``NO_MATCH``) or nothing matching is free (``NONE_FREE``); ``ONLY_STALE`` is a data
freshness problem, not missing equipment.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hub import logs
from hub.availability import ReasonCode, SearchAnswer
from hub.routing.model import SIGNAL_SEARCH_NONE_FREE

if TYPE_CHECKING:
    from hub.routing.router import Router

log = logging.getLogger("hub.routing")

ANY_CATEGORY = "(any)"
"""The category of signals from searches that named none."""
_COUNTED = frozenset({ReasonCode.NONE_FREE, ReasonCode.NO_MATCH})
_pending: set[asyncio.Task[None]] = set()
"""Running writes: the loop keeps only weak references to tasks."""


def counts_as_demand(answer: SearchAnswer, offset: int) -> bool:
    """True when this answer is a first page with no fresh free slot for want of equipment."""
    return offset == 0 and any(r.code in _COUNTED for r in answer.reasons)


async def _record(router: Router, category: str) -> None:
    try:
        await router.record_demand(SIGNAL_SEARCH_NONE_FREE, category, "")
    except Exception as exc:  # never the search's problem; the operator sees it in the log
        logs.event(
            log,
            "demand_signal_failed",
            logging.WARNING,
            kind=SIGNAL_SEARCH_NONE_FREE,
            error=str(exc),
        )


def note_search(
    router: Router | None, answer: SearchAnswer, category: str | None, offset: int
) -> asyncio.Task[None] | None:
    """Count the search as demand when it found nothing free; returns the background task."""
    if router is None or not counts_as_demand(answer, offset):
        return None
    task = asyncio.get_running_loop().create_task(_record(router, category or ANY_CATEGORY))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return task
