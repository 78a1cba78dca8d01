"""One-stop requests for tests: a valid draft, and submitting it straight to a hub's store.

::

    view = submit(data_dir)                       # routed to the best equipment, as a portal's
    view.needs[0].items[0].item_id                # RQ-...-1-1
"""

from __future__ import annotations

import time
from pathlib import Path

from hub import config as hub_config
from hub.routing.model import Company, Draft, DraftNeed, RequestView
from hub.routing.requests import Requests
from hub.store import Store

DAY = 86400
COMPANY = Company("(주)한빛배터리", "124-81-00998", "김담당", "kim@hanbit.kr", "02-1234-5678")


def draft(now: int | None = None, category: str = "battery-cycler", hours: float = 8) -> Draft:
    """A valid request: one validation need, a window from tomorrow to a week later."""
    now = int(time.time()) if now is None else now
    need = DraftNeed(
        stage="validation",
        category=category,
        hours=hours,
        earliest=now + DAY,
        latest=now + 8 * DAY,
    )
    return Draft(COMPANY, "파우치 셀 수명 시험", "secondary-battery-cell", needs=(need,))


def requests_for(store: Store, data_dir: Path) -> Requests:
    cfg = hub_config.load(data_dir)
    return Requests(store, cfg.routing.load_guide(), cfg.routing, cfg.sync.stale_after_seconds)


def submit(data_dir: Path, actor: str = "apikey:web", request: Draft | None = None) -> RequestView:
    """Submit through the store, as the CLI would (a running hub delivers it)."""
    with Store.open(hub_config.load(data_dir).database_url) as store:
        view, _ = requests_for(store, data_dir).submit(request or draft(), actor=actor)
    return view
