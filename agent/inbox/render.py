"""An inbox item as center staff read it: the JSON of item files and ``--json``, and text.

Times are shown in the center's zone with their offset (what staff plan with) and in UTC
(what the hub and logs use), so nobody has to guess which clock a time is on.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.inbox.answers import DECLINE_REASON, TIME_EXAMPLE
from agent.inbox.store import NEW, WITHDRAWN, InboxItem
from proto import codes, timeconv

FORMAT = "iplat-inbox-item/1"


def local_iso(seconds: int | None, zone: ZoneInfo) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, zone).isoformat(timespec="minutes")


def _pair(name: str, seconds: int | None, zone: ZoneInfo) -> dict[str, str | None]:
    return {name: local_iso(seconds, zone), f"{name}_utc": timeconv.iso(seconds)}


def _ts(ts: Any) -> int | None:
    """A Timestamp field to epoch seconds; None when unset (0 means unset on our wire)."""
    return int(ts.seconds) if ts.seconds else None


def _code(codemap: codes.CodeMap, value: int) -> str:
    if not value:
        return ""
    try:
        return codemap.code(value)
    except ValueError:
        return str(value)


def how_to_answer(item_id: str, config_path: str, answers_dir: str | None) -> str:
    """The instructions written into every item, naming the exact commands and format."""
    cfg = f" --config {config_path}"
    text = (
        f"Answer on the agent's machine with: iplat-agent requests accept {item_id}{cfg} "
        f"[--start T --end T] [--by NAME] [--message M] | iplat-agent requests decline "
        f"{item_id}{cfg} --reason CODE [--message M] | iplat-agent requests propose {item_id}"
        f"{cfg} --start T --end T [--message M]."
    )
    if answers_dir:
        text += (
            f" Or put a JSON file into {answers_dir}: "
            f'{{"item_id": "{item_id}", "answer": "accept" | "decline" | "propose", '
            f'"start": "{TIME_EXAMPLE}", "end": "...", "reason": '
            + " | ".join(f'"{c}"' for c in DECLINE_REASON.codes)
            + ', "message": "...", "by": "your name"}. The agent moves it to done/ when '
            "queued, or to rejected/ with a .error.txt saying what to fix."
        )
    return text + (
        " accept without start/end takes the suggested slot; propose needs start and end; "
        "decline needs a reason. Times are ISO 8601; without an offset they are the "
        "center's local time."
    )


def item_json(item: InboxItem, zone: ZoneInfo, how: str = "") -> dict[str, Any]:
    w = item.work
    need = w.need
    company = w.company
    out: dict[str, Any] = {
        "format": FORMAT,
        "item_id": item.item_id,
        "request_id": item.request_id,
        "attempt": int(w.attempt),
        "state": item.state,
        "withdrawn_reason": item.withdrawn_reason,
        **_pair("received_at", int(item.received_at), zone),
        **_pair("deadline", _ts(w.deadline), zone),
        "company": {
            "name": company.name,
            "business_number": company.business_number,
            "contact_name": company.contact_name,
            "contact_email": company.contact_email,
            "contact_phone": company.contact_phone,
        },
        "project_title": w.project_title,
        "technology_area": w.technology_area,
        "goal": w.goal,
        "coordinator": (
            {
                "center_id": w.coordinator.center_id,
                "name": w.coordinator.name,
                "industry": _code(codes.INDUSTRY, w.coordinator.industry),
            }
            if w.HasField("coordinator") and w.coordinator.center_id
            else None
        ),
        "equipment_id": w.equipment_id,
        "need": {
            "stage": _code(codes.STAGE, need.stage),
            "category": need.category,
            "capabilities": list(need.capabilities),
            "service": _code(codes.SERVICE, need.service),
            "hours": need.hours,
            **_pair("earliest", _ts(need.earliest), zone),
            **_pair("latest", _ts(need.latest), zone),
            "region": need.region,
            "note": need.note,
        },
        "suggested_slot": (
            {**_pair("start", _ts(w.slot_start), zone), **_pair("end", _ts(w.slot_end), zone)}
            if w.slot_start.seconds
            else None
        ),
        "answer": _answer_json(item, zone),
        "hub_outcome": item.hub_outcome,
        "hub_message": item.hub_message,
        "hub_state": item.hub_state,
    }
    if how:
        out["how_to_answer"] = how
    return out


def _answer_json(item: InboxItem, zone: ZoneInfo) -> dict[str, Any] | None:
    a = item.answer
    if a is None:
        return None
    return {
        "seq": a.seq,
        "answer": a.kind,
        **_pair("start", a.start, zone),
        **_pair("end", a.end, zone),
        "reason": a.reason,
        "message": a.message,
        "by": a.by,
        **_pair("answered_at", int(a.at), zone),
        "sent_and_acknowledged": bool(item.hub_outcome),
    }


def _span(start: int | None, end: int | None, zone: ZoneInfo) -> str:
    if start is None or end is None:
        return "-"
    a = datetime.fromtimestamp(start, zone)
    b = datetime.fromtimestamp(end, zone)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} – {tail} {a:%z}"


def _due(deadline: int | None, zone: ZoneInfo, now: float) -> str:
    if deadline is None:
        return "no deadline"
    left = deadline - now
    when = f"{datetime.fromtimestamp(deadline, zone):%Y-%m-%d %H:%M %z}"
    if left <= 0:
        return f"{when} (OVERDUE)"
    hours = int(left // 3600)
    if hours >= 24:
        return f"{when} (in {hours // 24} d {hours % 24} h)"
    return f"{when} (in {hours} h)"


def status_text(item: InboxItem, zone: ZoneInfo, now: float | None = None) -> str:
    """One phrase: where the item stands and what, if anything, staff must do."""
    now = time.time() if now is None else now
    if item.state == WITHDRAWN:
        why = f": {item.withdrawn_reason}" if item.withdrawn_reason else ""
        return f"withdrawn by the hub{why}; no answer needed"
    if item.state == NEW:
        return f"waiting for your answer, due {_due(_ts(item.work.deadline), zone, now)}"
    a = item.answer
    assert a is not None
    if not item.hub_outcome:
        return f"answered ({a.kind}); waiting for the hub to confirm"
    if item.hub_outcome == "rejected":
        return f"answered ({a.kind}) but the HUB REJECTED it: {item.hub_message}"
    state = f", item {item.hub_state}" if item.hub_state else ""
    return f"answered ({a.kind}); the hub {item.hub_outcome} it{state}"


def list_line(item: InboxItem, zone: ZoneInfo, now: float | None = None) -> str:
    w = item.work
    return (
        f"{item.item_id}  {item.state:<9}  {w.company.name} / {w.project_title}  "
        f"equipment {w.equipment_id}  -- {status_text(item, zone, now)}"
    )


def item_text(item: InboxItem, zone: ZoneInfo, how: str, now: float | None = None) -> str:
    w, need, c = item.work, item.work.need, item.work.company
    contact = ", ".join(x for x in (c.contact_name, c.contact_email, c.contact_phone) if x)
    lines = [
        f"item         {item.item_id} (request {item.request_id}, attempt {w.attempt})",
        f"status       {status_text(item, zone, now)}",
        f"company      {c.name} ({c.business_number}); contact {contact or '-'}",
        f"project      {w.project_title} [{w.technology_area}]",
    ]
    if w.goal:
        lines.append(f"goal         {w.goal}")
    if w.coordinator.center_id:
        lines.append(f"coordinator  {w.coordinator.name} ({w.coordinator.center_id})")
    what = ", ".join(
        x
        for x in (
            _code(codes.STAGE, need.stage),
            need.category,
            "+".join(need.capabilities),
            _code(codes.SERVICE, need.service),
            f"{need.hours:g} h",
        )
        if x
    )
    lines += [
        f"equipment    {w.equipment_id}",
        f"need         {what}",
        f"window       {_span(_ts(need.earliest), _ts(need.latest), zone)}"
        + (f", region {need.region}" if need.region else ""),
        f"suggested    {_span(_ts(w.slot_start), _ts(w.slot_end), zone)}",
        f"received     {local_iso(int(item.received_at), zone)}",
    ]
    if need.note:
        lines.append(f"note         {need.note}")
    a = item.answer
    if a is not None:
        times = _span(a.start, a.end, zone) if a.start is not None else "the suggested slot"
        detail = {"decline": f"reason {a.reason}"}.get(a.kind, times)
        lines.append(f"answer       #{a.seq} {a.kind} ({detail}) by {a.by or '-'}")
        if a.message:
            lines.append(f"             message: {a.message}")
        if item.hub_outcome:
            lines.append(
                f"hub          {item.hub_outcome}"
                + (f" (item {item.hub_state})" if item.hub_state else "")
                + (f": {item.hub_message}" if item.hub_message else "")
            )
    if item.state == NEW or item.hub_outcome == "rejected":
        lines.append(f"how to answer: {how}")
    return "\n".join(lines)
