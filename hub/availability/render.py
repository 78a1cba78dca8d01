"""Search and free/busy answers as JSON-ready dicts and as a text table.

Times are ISO 8601 with the offset of the requested zone (``2027-01-04T09:00:00+09:00``),
the form portal users read and every JSON parser accepts. Stale data is never rendered
as plainly free: results carry ``stale: true`` and their slots ``unconfirmed: true``,
and the text table marks them ``STALE`` / ``unconfirmed``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.availability.model import FreeBusy, SearchAnswer, SearchResult


def iso(t: int | None, zone: ZoneInfo) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, zone).isoformat()


def _result_json(r: SearchResult, zone: ZoneInfo) -> dict[str, Any]:
    c = r.center
    return {
        "center_id": c.id,
        "equipment_id": r.equipment_id,
        "name_ko": r.name_ko,
        "name_en": r.name_en,
        "category": r.category,
        "capabilities": list(r.capabilities),
        "status": r.status,
        "stages": list(r.stages),
        "services": list(r.services),
        "stale": r.stale,
        "first_fit": iso(r.first_fit, zone),
        "slots": [
            {"start": iso(s.start, zone), "end": iso(s.end, zone), "unconfirmed": s.unconfirmed}
            for s in r.slots
        ],
        "center": {
            "id": c.id,
            "name_ko": c.name_ko,
            "name_en": c.name_en,
            "industry": c.industry,
            "region": c.region,
            "time_zone": c.time_zone,
            "last_seen": iso(c.last_seen, zone),
            "last_sync": iso(c.last_sync, zone),
            "stale": c.stale,
        },
    }


def answer_json(answer: SearchAnswer) -> dict[str, Any]:
    """The search answer as a JSON-ready dict (the CLI's --json; the HTTP API may reuse it)."""
    zone = ZoneInfo(answer.time_zone)
    return {
        "generated_at": iso(answer.generated_at, zone),
        "time_zone": answer.time_zone,
        "matched": answer.matched,
        "total": answer.total,
        "next_offset": answer.next_offset,
        "results": [_result_json(r, zone) for r in answer.results],
        "reasons": [
            {
                "code": str(reason.code),
                "message": reason.message,
                "earliest_free": iso(reason.earliest_free, zone),
            }
            for reason in answer.reasons
        ],
    }


def free_busy_json(fb: FreeBusy, time_zone: str) -> dict[str, Any]:
    zone = ZoneInfo(time_zone)
    c = fb.center
    return {
        "center_id": c.id,
        "stale": c.stale,
        "last_seen": iso(c.last_seen, zone),
        "from": iso(fb.window_from, zone),
        "to": iso(fb.window_to, zone),
        "equipment": [
            {
                "equipment_id": e.equipment_id,
                "status": e.status,
                "busy": [
                    {"start": iso(p.start, zone), "end": iso(p.end, zone), "type": str(p.kind)}
                    for p in e.busy
                ],
            }
            for e in fb.equipment
        ],
    }


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)
        ).rstrip()
        for r in [header, *rows]
    ]


def _short(t: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).strftime("%m-%d %a %H:%M")


def answer_text(answer: SearchAnswer) -> str:
    """A readable table: one row per result, its slots, freshness; then the reasons."""
    zone = ZoneInfo(answer.time_zone)
    lines: list[str] = []
    if answer.results:
        rows = []
        for r in answer.results:
            slots = ", ".join(
                f"{_short(s.start, zone)}-{datetime.fromtimestamp(s.end, zone):%H:%M}"
                + (f" (+{(s.end - s.start) // 86400}d)" if s.end - s.start >= 86400 else "")
                for s in r.slots
            )
            fresh = "STALE (unconfirmed)" if r.stale else "fresh"
            rows.append([r.center.id, r.equipment_id, r.name_ko or r.name_en, r.center.region,
                         fresh, slots])  # fmt: skip
        lines += _table(["CENTER", "EQUIPMENT", "NAME", "REGION", "DATA", "FREE"], rows)
        total = "?" if answer.total is None else str(answer.total)
        lines.append("")
        lines.append(
            f"{len(answer.results)} shown of {total} free ({answer.matched} matched); "
            f"times in {answer.time_zone}"
            + (f"; next page: --offset {answer.next_offset}" if answer.next_offset else "")
        )
    else:
        lines.append(f"nothing free ({answer.matched} matched)")
    for reason in answer.reasons:
        when = (
            f" [earliest free {iso(reason.earliest_free, zone)}]"
            if reason.earliest_free is not None
            else ""
        )
        lines.append(f"{reason.code}: {reason.message}{when}")
    return "\n".join(lines) + "\n"
