"""One-stop routing under time and faults, with real hub and agent processes (issue #5).

- An item unanswered past its deadline is expired by the hub and routed to the next
  candidate; the first center's inbox shows it withdrawn. When no candidate is left the
  request says so and why.
- ``kill -9`` of the hub between routing and the center's acknowledgement: the delivery is
  committed at the hub and stored at the center, the DeliveryAck is held on the link, the
  hub dies. After the restart the hub sends the item again and the agent recognises it:
  one file in one inbox, written once, and the hub marks it delivered. Then the same for
  the center's answer: applied at the hub, its AnswerAck held, the hub killed; the agent
  sends it again and the hub applies it once (SQLite and PostgreSQL).
- ``kill -9`` at a seeded random moment while requests are submitted and answered in a
  loop: every routed item reaches exactly one inbox once, and every answer is applied by
  the hub exactly once.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e import Procs, rng_for
from tests.helpers.routing_e2e import (
    WAIT,
    CenterSpec,
    RoutingWorld,
    Site,
    battery_request,
    current_items,
    equipment,
    events_of,
    items_of,
    need,
)
from tests.helpers.wait import eventually

pytestmark = pytest.mark.slow

EE1, EE2, MA = "KR-EE-0001", "KR-EE-0002", "KR-MA-0001"
DAEJEON_CYCLER = CenterSpec(
    EE1,
    "electrical-electronics",
    (
        equipment("cycler-1", "battery-cycler", stages=["validation"]),
        equipment("abuse-1", "abuse-chamber", stages=["validation"]),
    ),
    role="representative",
)
BUSAN_CYCLER = CenterSpec(
    EE2,
    "electrical-electronics",
    (equipment("cycler-2", "battery-cycler"), equipment("abuse-2", "abuse-chamber")),
    region="부산",
)
MATERIALS = CenterSpec(MA, "materials", (equipment("xrd-1", "xrd", stages=["design"]),))
DEADLINE_SECONDS = 5


# -- the deadline ---------------------------------------------------------------------------


def test_unanswered_item_expires_and_goes_to_the_next_candidate(
    tmp_path: Path, procs: Procs
) -> None:
    routing = {
        "answer_deadline": f"{DEADLINE_SECONDS} seconds",
        "sweep_seconds": 0.5,
        "delivery_poll_seconds": 0.2,
    }
    world = RoutingWorld.start(procs, tmp_path, (DAEJEON_CYCLER, BUSAN_CYCLER), routing=routing)
    ee1, ee2 = world.sites[EE1], world.sites[EE2]

    request = world.submit(battery_request(needs=[need("battery-cycler")]))
    rid = request["id"]
    [first] = current_items(request)
    assert first["candidate"]["center_id"] == EE1
    ee1.wait_file(first["item_id"])

    # Nobody answers: past the deadline the hub expires the item and routes the need on.
    doc = world.wait_state(rid, first["item_id"], "expired")
    [_, second] = doc["needs"][0]["items"]
    assert second["candidate"]["center_id"] == EE2
    expired = next(e for e in events_of(doc, first["item_id"]) if e["kind"] == "expired")
    assert expired["actor"] == "hub"
    assert "no answer by the deadline" in expired["detail"]
    rerouted = events_of(doc, second["item_id"])[0]
    assert (rerouted["kind"], rerouted["actor"]) == ("rerouted", "hub")
    due = datetime.fromisoformat(first["deadline"]) - datetime.fromisoformat(first["routed_at"])
    assert due.total_seconds() == DEADLINE_SECONDS

    withdrawn = ee1.wait_file(first["item_id"], "withdrawn")
    assert "deadline" in withdrawn["withdrawn_reason"]
    ee2.wait_file(second["item_id"])
    assert second["item_id"] not in ee1.item_files()
    assert first["item_id"] not in ee2.item_files()
    # The first center can no longer act on it.
    code, _, err = ee1.requests_cli("accept", first["item_id"])
    assert code != 0 and "took" in err and first["item_id"] in err, err

    # The second center does not answer either: no candidate is left, and the request
    # says so and why.
    doc = world.wait_request(rid, "unserved")
    assert [i["state"] for i in doc["needs"][0]["items"]] == ["expired", "expired"]
    reason = doc["needs"][0]["plan"]["unserved_reason"]
    assert "already tried" in reason and EE1 in reason and EE2 in reason, reason
    assert [e["kind"] for e in events_of(doc)][-1] == "unserved"
    ee2.wait_file(second["item_id"], "withdrawn")
    for site in (ee1, ee2):
        assert all(e["new"] for e in site.events("inbox_item")), site.id
    assert not world.errors()


# -- SIGKILL between routing and acknowledgement ------------------------------------------------


def test_hub_kill_9_before_the_ack_neither_loses_nor_duplicates_the_item(
    tmp_path: Path, db_url: str, procs: Procs
) -> None:
    world = RoutingWorld.start(
        procs, tmp_path, (DAEJEON_CYCLER, BUSAN_CYCLER), db_url=db_url, proxied=[EE1]
    )
    ee1 = world.sites[EE1]
    link = ee1.proxy
    assert link is not None

    # The center's acknowledgements stop on the link; the hub's messages still arrive.
    link.hold("up")
    request = world.submit(battery_request(needs=[need("battery-cycler")]))
    rid = request["id"]
    [item] = current_items(request)
    item_id = item["item_id"]
    assert item["candidate"]["center_id"] == EE1
    ee1.wait_file(item_id, "new")
    file = ee1.inbox / "items" / f"{item_id}.json"
    written = file.stat()
    eventually(lambda: link.held_bytes("up") > 0, timeout=WAIT, interval=0.05, what="ack held")
    # Committed and stored at the center, not acknowledged to the hub.
    assert items_of(world.show(rid))[item_id]["state"] == "routed"

    world.hub.kill()
    link.release()
    link.cut()
    world.restart_hub(kill=True)

    doc = world.wait_state(rid, item_id, "delivered")
    # The restarted hub sent it again (a second receipt), the agent knew it: not new.
    eventually(lambda: len(ee1.received(item_id)) == 2, timeout=WAIT, interval=0.1)
    assert [e["new"] for e in ee1.received(item_id)] == [True, False]
    again = file.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert set(ee1.item_files()) == {item_id}
    assert world.sites[EE2].item_files() == {}
    delivered = [e for e in events_of(doc, item_id) if e["kind"] == "delivered"]
    assert [e["actor"] for e in delivered] == [f"center:{EE1}"]

    # The answer: applied at the hub, its AnswerAck held on the way back, the hub killed.
    link.hold("down")
    ee1.accept(item_id)
    world.wait_state(rid, item_id, "accepted")
    eventually(lambda: link.held_bytes("down") > 0, timeout=WAIT, interval=0.05)
    [answer] = ee1.agent_item(item_id)["answers"]
    assert answer["acked_at"] is None, answer
    world.hub.kill()
    link.release()
    link.cut()
    world.restart_hub(kill=True)

    # The agent sends it again; the hub knows it: acknowledged as a duplicate, applied once.
    eventually(
        lambda: ee1.agent_item(item_id)["answers"][0]["outcome"] == "duplicate",
        timeout=WAIT,
        interval=0.1,
    )
    assert len(ee1.events("answer_sent")) >= 2
    doc = world.wait_request(rid, "accepted")
    assert [e["kind"] for e in events_of(doc, item_id)] == ["routed", "delivered", "accepted"]
    assert [e["new"] for e in ee1.received(item_id)] == [True, False]
    assert not world.errors()


# -- SIGKILL at a random moment of a busy loop ---------------------------------------------------

REQUESTS = 10
LATENCY = 0.15
CATALOG = (("battery-cycler", "validation"), ("abuse-chamber", "validation"), ("xrd", "design"))
ANSWERED = {"accept": "accepted", "decline": "declined"}
SHARED = ("battery-cycler", "abuse-chamber")
"""Categories two centers hold: a first attempt there may be declined and move on."""


class Answerer:
    """Answers every item that arrives in the centers' inboxes: accept with the CLI or by
    an answer file, or (the first attempt of a shared category) decline for lack of
    capacity. The choice is seeded per item (request number, need, attempt), so it does
    not depend on the order in which items happen to arrive; the first shared item seen
    is always declined, so every run has a re-route."""

    def __init__(self, world: RoutingWorld, request_ids: list[str]) -> None:
        self.world = world
        self.request_ids = request_ids
        self.answered: dict[str, str] = {}
        """item_id -> the answer given."""

    def round(self) -> int:
        """Answer what arrived; how many answers were given."""
        before = len(self.answered)
        for site in self.world.sites.values():
            code, out, err = site.requests_cli("list", "--state", "new", "--json")
            assert code == 0, err
            for doc in json.loads(out):
                if doc["item_id"] not in self.answered:
                    self._answer(site, doc)
        return len(self.answered) - before

    def all_sent(self) -> bool:
        """The agents put every answer given so far on the wire."""
        sites = self.world.sites.values()
        return sum(len(s.events("answer_sent")) for s in sites) >= len(self.answered)

    def _answer(self, site: Site, doc: dict[str, Any]) -> None:
        item_id = doc["item_id"]
        n = self.request_ids.index(doc["request_id"])
        rng = rng_for(f"routing_kill_loop:{n}{item_id.removeprefix(doc['request_id'])}")
        shared_first = doc["need"]["category"] in SHARED and doc["attempt"] == 1
        if shared_first and ("decline" not in self.answered.values() or rng.random() < 0.4):
            site.decline(item_id)
            self.answered[item_id] = "decline"
        elif rng.random() < 0.5:
            site.drop_answer(item_id)
            self.answered[item_id] = "accept"
        else:
            site.accept(item_id)
            self.answered[item_id] = "accept"


def test_hub_kill_9_while_requests_flow_loses_and_repeats_nothing(
    tmp_path: Path, procs: Procs
) -> None:
    rng = rng_for("routing_kill_loop")
    centers = (DAEJEON_CYCLER, BUSAN_CYCLER, MATERIALS)
    # A slow link keeps deliveries, acks, answers and their acks on the wire long enough
    # for a kill to catch some of them there.
    world = RoutingWorld.start(
        procs, tmp_path, centers, proxied=[c.id for c in centers], latency=LATENCY
    )
    ids: list[str] = []
    unacked: list[str] = []
    answerer = Answerer(world, ids)
    kill_at = rng.randrange(2, REQUESTS - 3)
    restart_at = kill_at + rng.randrange(1, 3)
    print(f"\nkill -9 after request {kill_at}, restart after request {restart_at}")

    def submit(n: int) -> None:
        needs = [need(c, s) for c, s in rng.sample(CATALOG, rng.randrange(1, 3))]
        ids.append(world.submit(battery_request(needs=needs, title=f"요청 {n}"))["id"])

    for n in range(REQUESTS):
        answerer.round()
        submit(n)
        if n == kill_at:
            # Strike just after answers left the agents and another request was routed:
            # answers, deliveries and their acks are on the slow link then.
            eventually(lambda: answerer.round() > 0, timeout=WAIT, interval=0.05)
            eventually(answerer.all_sent, timeout=WAIT, interval=0.01, what="answers sent")
            submit(REQUESTS)
            time.sleep(rng.uniform(0, LATENCY))
            world.hub.kill()
            unacked = [
                i for rid in ids for i, item in items_of(world.show(rid)).items()
                if item["state"] == "routed"
            ]  # fmt: skip
            # The kill landed between routing and acknowledgement of these.
            assert unacked, "nothing was in flight when the hub was killed"
        if n == restart_at:
            world.restart_hub(kill=True)

    def settled() -> bool:
        answerer.round()
        states = {rid: world.show(rid)["state"] for rid in ids}
        assert set(states.values()) == {"accepted"}, states
        return True

    eventually(settled, timeout=WAIT, interval=0.3, what="every request accepted")
    assert "decline" in answerer.answered.values()

    hub_items: dict[str, dict[str, Any]] = {}
    for rid in ids:
        doc = world.show(rid)
        for item_id, item in items_of(doc).items():
            hub_items[item_id] = item
            center = item["candidate"]["center_id"]
            answers = [
                e
                for e in events_of(doc, item_id)
                if e["kind"] in ("accepted", "declined", "proposed")
            ]
            # Every answer applied exactly once, by the center the item was routed to.
            assert [(e["kind"], e["actor"]) for e in answers] == [
                (item["state"], f"center:{center}")
            ], (item_id, events_of(doc, item_id))
            assert ANSWERED[answerer.answered[item_id]] == item["state"], item_id
            delivered = [e for e in events_of(doc, item_id) if e["kind"] == "delivered"]
            assert len(delivered) <= 1, delivered
            assert item["delivered_at"] is not None

    # Every routed item is in exactly one inbox, entered once; the agents' answers were
    # all acknowledged (a replay after the kill is acknowledged as a duplicate).
    for site in world.sites.values():
        files = site.item_files()
        mine = {i for i, item in hub_items.items() if item["candidate"]["center_id"] == site.id}
        assert set(files) == mine, site.id
        entered = [e["item_id"] for e in site.events("inbox_item") if e["new"]]
        assert sorted(entered) == sorted(mine), site.id
        for item_id in mine:
            shown = site.agent_item(item_id)
            assert [a["outcome"] for a in shown["answers"]] in (["applied"], ["duplicate"]), shown
            assert shown["hub_state"] == hub_items[item_id]["state"]
    assert sorted(answerer.answered) == sorted(hub_items)
    replays = sum(not e["new"] for s in world.sites.values() for e in s.events("inbox_item"))
    resent = sum(len(s.events("answer_sent")) for s in world.sites.values()) - len(hub_items)
    duplicates = sum(
        a["outcome"] == "duplicate"
        for s in world.sites.values()
        for i in s.item_files()
        for a in s.agent_item(i)["answers"]
    )
    assert not world.errors()
    print(
        f"{len(hub_items)} items in {len(ids)} requests, "
        f"{list(answerer.answered.values()).count('decline')} declined; at the kill "
        f"{len(unacked)} deliveries unacknowledged; after it {replays} deliveries and "
        f"{resent} answers sent again ({duplicates} of them applied before the kill)"
    )
