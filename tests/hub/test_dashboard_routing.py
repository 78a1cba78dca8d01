"""The routing queue on the operators' dashboard and in /metrics, served by a real hub
process: a routed item shows with its request, need, center, state and deadline; counts
per state; the same data in the live-refresh JSON; red deadlines when due within 4 h."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hub import config
from hub.http import dashboard_routing
from hub.routing.model import ITEM_ROUTED, Candidate, ItemView
from tests.helpers import routing
from tests.helpers.availability import World
from tests.helpers.hubenv import RunningHub, init_hub, running_hub
from tests.helpers.opsenv import metrics_text
from tests.helpers.portal import fetch, http_address

CENTER = "KR-EE-0001"


@dataclass
class Routed:
    hub: RunningHub
    address: str
    request_id: str
    item_id: str


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routed]:
    data_dir = init_hub(tmp_path_factory.mktemp("hub"))
    world = World.open(config.load(data_dir).database_url)
    world.center(CENTER, industry="electrical-electronics")
    world.equipment(CENTER, "cycler-1")
    world.close()
    view = routing.submit(data_dir, actor="operator:test")
    with running_hub(data_dir) as hub:
        yield Routed(hub, http_address(hub), view.id, view.needs[0].items[0].item_id)


def test_the_overview_lists_the_routed_item(routed: Routed) -> None:
    page = html.unescape(fetch(routed.address, "/ops/").body.decode())
    row = re.search(rf'<tr data-item="{routed.item_id}".*?</tr>', page)
    assert row, "no queue row for the routed item"
    cells = row.group(0)
    assert routed.request_id in cells and "validation · battery-cycler" in cells
    assert f'href="/ops/centers/{CENTER}"' in cells and 'data-item-state="routed"' in cells
    assert "배정됨" in cells and 'class="urgent"' not in cells  # two business days ahead
    assert '<b data-item-count="routed">1</b>' in page
    assert "Routing queue" in page and "요청 배정 대기열" in page


def test_the_live_json_and_metrics_carry_it(routed: Routed) -> None:
    data = fetch(routed.address, "/ops/api/fleet").json()
    routing = data["routing"]
    assert routing["counts"]["routed"] == 1 and routing["counts"]["accepted"] == 0
    (item,) = routing["items"]
    assert item["item_id"] == routed.item_id and item["center_id"] == CENTER
    assert item["due_seconds"] > 4 * 3600 and item["urgent"] is False
    text = metrics_text(routed.hub)
    assert 'iplat_routing_items{state="routed"} 1.0' in text
    assert re.search(rf'iplat_center_open_items\{{center="{CENTER}",[^}}]*\}} 1\.0', text)


def _item(state: str, deadline: int) -> ItemView:
    c = Candidate(CENTER, "센터", "cycler-1", "충방전기", "대전", "Asia/Seoul",
                  0, 1, 1, 1, 0, 0, 0, 0, False)  # fmt: skip
    return ItemView("RQ-1-1-1", "RQ-1", 0, 1, state, c, 0, deadline)


def test_deadlines_turn_red_within_four_hours() -> None:
    now = 1_800_000_000
    soon = dashboard_routing._item(_item(ITEM_ROUTED, now + 3 * 3600), "n", now)
    late = dashboard_routing._item(_item("delivered", now - 60), "n", now)
    calm = dashboard_routing._item(_item(ITEM_ROUTED, now + 5 * 3600), "n", now)
    waiting = dashboard_routing._item(_item("proposed", now - 60), "n", now)
    assert (soon["urgent"], late["urgent"], calm["urgent"], waiting["urgent"]) == (
        True, True, False, False,
    )  # fmt: skip
    # A proposal waits for the company: its deadline shows, not flagged as the center's.
    assert waiting["waiting_for"] == "company" and waiting["deadline"] is not None
    rows = dashboard_routing.queue_rows([soon, late, waiting])
    assert rows.count('class="urgent"') == 2 and "1 min overdue" in rows
    assert "company to answer" in rows and "기업 응답 대기" in rows
