"""The routing queue on the operators' dashboard and in /metrics (issue #6).

Operators watch for items a center leaves unanswered: the panel lists every item someone
still has to act on (routed or delivered: the center; proposed: the company), oldest
first, with its request, need, center, state and answer deadline (red when past or within
:data:`URGENT_SECONDS`), and counts items per state. The same read feeds the
``iplat_routing_items`` and ``iplat_center_open_items`` metrics.

The queue rows carry the need's stage and category, which the item rows do not hold; a
need never changes after it is stored, so they are read once per need and cached.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hub.health.problems import Text
from hub.http.dashboard_html import ITEM_STATE_NAMES, both, esc, tr
from hub.metrics import RoutingSnapshot
from hub.routing.model import ITEM_STATES, OPEN_ITEM_STATES, ItemView
from hub.store import routing_read
from hub.store.engine import read_tx
from proto import timeconv

if TYPE_CHECKING:
    from hub.routing.requests import Requests
    from hub.routing.router import Router
    from hub.server import StoreAccess

QUEUE_LIMIT = 50
URGENT_SECONDS = 4 * 3600
MAX_CACHED_NEEDS = 10_000
NeedKey = tuple[str, int]

QUEUE_COLUMNS = (
    ("", Text("Request", "요청")),
    ("", Text("Need", "필요 장비")),
    ("", Text("Center", "센터")),
    ("", Text("State", "상태")),
    ("", Text("Answer by", "응답 기한")),
    ("opt", Text("Routed", "배정 시각")),
)

_needs: weakref.WeakKeyDictionary[Router, dict[NeedKey, str]] = weakref.WeakKeyDictionary()


def _read_needs(requests: Requests, keys: Iterable[NeedKey]) -> dict[NeedKey, str]:
    """``stage · category`` of each need (blocking: run on the store's threads)."""
    out: dict[NeedKey, str] = {}
    with read_tx(requests.store.engine) as conn:
        for rid, index in keys:
            row = routing_read.need_row(conn, rid, index)
            if row is not None:
                need = routing_read.need_from_row(row)
                what = need.category or ", ".join(need.capabilities)
                out[rid, index] = f"{need.stage} · {what}"
    return out


def _open_by_center(requests: Requests, center_ids: list[str]) -> dict[str, int]:
    with read_tx(requests.store.engine) as conn:
        return routing_read.open_counts(conn, center_ids)


async def snapshot(
    router: Router | None, access: StoreAccess, center_ids: Iterable[str]
) -> RoutingSnapshot | None:
    """Counts for /metrics; None when this process does not route."""
    if router is None:
        return None
    counts = await router.counts()
    open_by_center = await access.read(_open_by_center, router.requests, list(center_ids))
    return RoutingSnapshot(counts, open_by_center)


async def queue_json(router: Router | None, access: StoreAccess, now: int) -> dict[str, Any] | None:
    """The panel's data (also in /ops/api/fleet as ``routing``); None without routing."""
    if router is None:
        return None
    items = await router.queue(QUEUE_LIMIT)
    counts = await router.counts()
    cache = _needs.setdefault(router, {})
    missing = list(dict.fromkeys((i.request_id, i.need_index) for i in items) - cache.keys())
    if missing:
        if len(cache) + len(missing) > MAX_CACHED_NEEDS:
            cache.clear()
        cache.update(await access.read(_read_needs, router.requests, missing))
    return {
        "counts": {s: counts.get(s, 0) for s in ITEM_STATES},
        "items": [_item(i, cache.get((i.request_id, i.need_index), "-"), now) for i in items],
        "urgent_seconds": URGENT_SECONDS,
    }


def _item(i: ItemView, need: str, now: int) -> dict[str, Any]:
    c = i.candidate
    waiting_center = i.state in OPEN_ITEM_STATES
    return {
        "item_id": i.item_id,
        "request_id": i.request_id,
        "need": need,
        "center_id": c.center_id,
        "center_name": c.center_name,
        "equipment_id": c.equipment_id,
        "state": i.state,
        "routed_at": timeconv.iso(i.routed_at),
        # A proposed item waits for the company: its deadline is the company's (then the
        # offer is withdrawn and the need moves on), shown but not flagged as the center's.
        "waiting_for": "center" if waiting_center else "company",
        "deadline": timeconv.iso(i.deadline),
        "due_seconds": i.deadline - now,
        "urgent": waiting_center and i.deadline - now <= URGENT_SECONDS,
    }


# -- HTML (static/ops.js redraws the same structure: keep them in step) -------------------------


def _state(state: str) -> str:
    return both(ITEM_STATE_NAMES.get(state, Text(state, state)))


def count_chips(counts: dict[str, int]) -> str:
    return "".join(
        f'<span class="chip" data-item-state="{s}"><b data-item-count="{s}">'
        f"{counts.get(s, 0)}</b>{_state(s)}</span>"
        for s in ITEM_STATES
    )


def _due(item: dict[str, Any]) -> str:
    seconds = item["due_seconds"]
    if seconds < 0:
        left = tr(f"{_hours(-seconds)} overdue", f"{_hours(-seconds)} 초과")
    else:
        left = tr(f"in {_hours(seconds)}", f"{_hours(seconds)} 남음")
    who = ""
    if item["waiting_for"] == "company":
        who = tr("company to answer", "기업 응답 대기") + "<br>"
    return f"{who}{esc(item['deadline'])}<br>{left}"


def _hours(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def queue_rows(items: list[dict[str, Any]]) -> str:
    rows = []
    for i in items:
        urgent = ' class="urgent"' if i["urgent"] else ""
        rows.append(
            f'<tr data-item="{esc(i["item_id"])}" data-item-state="{esc(i["state"])}">'
            f'<td>{esc(i["request_id"])}<br><span class="muted">{esc(i["item_id"])}</span></td>'
            f'<td class="wrap">{esc(i["need"])}</td>'
            f'<td><a href="/ops/centers/{esc(i["center_id"])}">{esc(i["center_id"])}</a>'
            f'<br><span class="muted">{esc(i["center_name"])}</span></td>'
            f'<td class="item-state">{_state(i["state"])}</td>'
            f'<td class="due"><span{urgent}>{_due(i)}</span></td>'
            f'<td class="opt">{esc(i["routed_at"])}</td></tr>'
        )
    empty = tr("Nothing waiting.", "대기 중인 항목 없음.")
    return "".join(rows) or f'<tr class="empty"><td colspan="6" class="muted">{empty}</td></tr>'


def panel(data: dict[str, Any] | None) -> str:
    """The routing section of the overview page."""
    if data is None:
        off = tr(
            "One-stop routing is not served by this process.",
            "이 프로세스는 요청 배정을 하지 않습니다.",
        )
        return f'<div class="placeholder">{off}</div>'
    head = "".join(f'<th class="{cls}">{both(name)}</th>' for cls, name in QUEUE_COLUMNS)
    hint = tr(
        "Oldest first; red: the center's answer is overdue or due within 4 h "
        "(iplat-hub requests show ID; reassign with iplat-hub requests reassign).",
        "오래된 순; 빨간색: 센터 응답 기한이 지났거나 4시간 안에 끝남 "
        "(iplat-hub requests show ID; 재배정은 iplat-hub requests reassign).",
    )
    return (
        f'<div class="chips" id="item-states">{count_chips(data["counts"])}</div>'
        f'<p class="muted">{hint}</p>'
        f'<div class="scroll"><table id="queue"><thead><tr>{head}</tr></thead>'
        f"<tbody>{queue_rows(data['items'])}</tbody></table></div>"
    )
