"""The national view for humans (a text table per center) and scripts (JSON).

Times are ISO 8601 UTC (``2026-11-27T03:00:00Z``), codes are the text codes of
``proto.codes``. Data of a stale center is shown, but marked STALE, never as current.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from hub.store import CenterSnapshot
from proto import codes, timeconv


def _code(cmap: codes.CodeMap, value: int) -> str:
    try:
        return cmap.code(value)
    except ValueError:
        return "unspecified"


def to_json(snapshots: Sequence[CenterSnapshot], now: int) -> dict[str, Any]:
    """The view as a JSON-ready dict (shape documented in the README)."""
    centers = []
    for snap in snapshots:
        c, st = snap.center, snap.state
        equipment = []
        for item in snap.equipment:
            eq = item.equipment
            equipment.append(
                {
                    "id": eq.id,
                    "name_ko": eq.name_ko,
                    "name_en": eq.name_en,
                    "category": eq.category,
                    "status": _code(codes.STATUS, eq.status),
                    "entries": [
                        {
                            "id": en.id,
                            "start": timeconv.iso(en.start.seconds),
                            "end": timeconv.iso(en.end.seconds),
                            "kind": _code(codes.ENTRY_KIND, en.kind),
                        }
                        for en in item.entries
                    ],
                }
            )
        centers.append(
            {
                "id": c.id,
                "name_ko": c.name_ko,
                "name_en": c.name_en,
                "industry": c.industry,
                "region": c.region,
                "role": c.role,
                "time_zone": c.time_zone,
                "last_sync": timeconv.iso(st.last_sync),
                "last_seen": timeconv.iso(st.last_seen),
                "connected": st.connected,
                "stale": snap.stale,
                "hwm": st.hwm,
                "equipment": equipment,
            }
        )
    return {"generated_at": timeconv.iso(now), "centers": centers}


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned under ``header``, two spaces between columns."""
    widths = [_width(h) for h in header]
    for row in rows:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return lines


def to_text(snapshots: Sequence[CenterSnapshot], now: int) -> str:
    if not snapshots:
        return "no centers registered: add one with 'iplat-hub center add'\n"
    out = [f"national view at {timeconv.iso(now)}"]
    for snap in snapshots:
        c, st = snap.center, snap.state
        marker = "  STALE" if snap.stale else ""
        out.append("")
        out.append(f"{c.id}  {c.name_ko} / {c.name_en}  [{c.industry}, {c.region}]{marker}")
        out.append(
            f"  last sync {timeconv.iso(st.last_sync) or 'never'}, "
            f"last seen {timeconv.iso(st.last_seen) or 'never'}, hwm {st.hwm}"
        )
        if not snap.equipment:
            out.append("  (no equipment)")
            continue
        rows = []
        for item in snap.equipment:
            eq = item.equipment
            busy = ", ".join(
                f"{timeconv.iso(en.start.seconds)}..{timeconv.iso(en.end.seconds)} "
                f"{_code(codes.ENTRY_KIND, en.kind)}"
                for en in item.entries[:3]
            )
            if len(item.entries) > 3:
                busy += f" (+{len(item.entries) - 3} more)"
            rows.append(
                [
                    eq.id,
                    eq.name_ko or eq.name_en,
                    eq.category,
                    _code(codes.STATUS, eq.status),
                    busy or "-",
                ]
            )
        out += [
            "  " + line for line in table(["equipment", "name", "category", "status", "busy"], rows)
        ]
    return "\n".join(out) + "\n"
