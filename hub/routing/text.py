"""Routing values as terminal text for ``iplat-hub requests ...`` and ``iplat-hub demand``.

Times are ISO 8601 UTC (``Z``) as everywhere else in the hub's CLI; ``--json`` gives the
HTTP API's JSON (:mod:`hub.routing.render`) for scripts.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.routing import model as m
from hub.view_render import table
from proto import timeconv


def _t(t: int | None) -> str:
    return timeconv.iso(t) or "-"


def _need_line(n: m.Need) -> str:
    what = n.category or ""
    if n.capabilities:
        what += (" " if what else "") + "[" + ", ".join(n.capabilities) + "]"
    parts = [n.stage, what, f"{n.hours:g} h", f"{_t(n.earliest)} .. {_t(n.latest)}"]
    if n.service:
        parts.append(n.service)
    if n.region:
        parts.append(f"region {n.region}")
    return "  ".join(parts) + f"  ({n.origin})"


def _candidate(c: m.Candidate) -> str:
    stale = " STALE" if c.stale else ""
    return (
        f"{c.center_id}/{c.equipment_id} ({c.center_name}: {c.equipment_name}) "
        f"score {c.score:.2f}, slot {_t(c.slot_start)}{stale}"
    )


def plan_text(plan: m.Plan) -> str:
    lines = [f"plan at {_t(plan.generated_at)}"]
    coord = plan.coordinator
    lines.append(f"coordinator  {coord.center_id} {coord.name}" if coord else "coordinator  -")
    for p in plan.needs:
        lines.append(f"need #{p.index + 1}  {_need_line(p.need)}")
        if not p.candidates:
            lines.append(f"    unserved: {p.unserved_reason or 'no candidate'}")
        for rank, c in enumerate(p.candidates, start=1):
            lines.append(f"    {rank}. {_candidate(c)}")
    return "\n".join(lines) + "\n"


def request_text(r: m.RequestView) -> str:
    c = r.company
    contact = ", ".join(x for x in (c.contact_name, c.contact_email, c.contact_phone) if x)
    coord = f"{r.coordinator.center_id} {r.coordinator.name}" if r.coordinator else "-"
    lines = [
        f"{r.id}  {r.state}  {r.project_title}",
        f"  area         {r.technology_area} ({r.industry})",
        f"  company      {c.name} ({c.business_number}); contact {contact}",
        f"  coordinator  {coord}",
        f"  submitted    {_t(r.created_at)} by {r.submitted_by}"
        + (f" (client id {r.client_request_id})" if r.client_request_id else ""),
        f"  updated      {_t(r.updated_at)}",
    ]
    if r.goal:
        lines.append(f"  goal         {r.goal}")
    lines.append("needs")
    for n in r.needs:
        lines.append(f"  #{n.plan.index + 1}  {_need_line(n.plan.need)}")
        for i in n.items:
            lines.append(f"      {_item_line(i)}")
        if not n.items:
            lines.append(f"      unserved: {n.plan.unserved_reason or 'no candidate'}")
    lines.append("events")
    for e in r.events:
        item = f" {e.item_id}" if e.item_id else ""
        detail = f": {e.detail}" if e.detail else ""
        lines.append(f"  {_t(e.at)}  {e.actor}  {e.kind}{item}{detail}")
    return "\n".join(lines) + "\n"


def _item_line(i: m.ItemView) -> str:
    c = i.candidate
    line = f"{i.item_id}  {i.state}  {c.center_id}/{c.equipment_id} ({c.center_name})"
    if i.state in m.OPEN_ITEM_STATES:
        line += f"  answer by {_t(i.deadline)}"
    if i.start is not None:
        line += f"  time {_t(i.start)} .. {_t(i.end)}"
    if i.decline_reason:
        line += f"  reason {i.decline_reason}"
    if i.message:
        line += f"  \u201c{i.message}\u201d"
    return line


def list_text(views: Sequence[m.RequestView]) -> str:
    rows = []
    for r in views:
        items = [n.items[-1] for n in r.needs if n.items]
        open_items = sum(1 for i in items if i.state in m.OPEN_ITEM_STATES)
        accepted = sum(1 for i in items if i.state == m.ITEM_ACCEPTED)
        rows.append(
            [
                r.id,
                r.state,
                r.project_title[:40],
                r.technology_area,
                f"{accepted}/{len(r.needs)} accepted, {open_items} waiting",
                _t(r.created_at),
            ]
        )
    header = ["id", "state", "title", "area", "needs", "created"]
    return "\n".join(table(header, rows)) + "\n"


def demand_text(signals: Sequence[m.DemandSignal]) -> str:
    rows = [
        [s.kind, s.category, s.center_id or "-", str(s.count), _t(s.first_at), _t(s.last_at)]
        for s in signals
    ]
    header = ["kind", "category", "center", "count", "first", "last"]
    return "\n".join(table(header, rows)) + "\n"
