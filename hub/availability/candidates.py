"""The SQL of a search: every filter is pushed into the database, all values are bound
parameters (never string-built SQL), and LIKE wildcards in user text are escaped.

Reads, all in the caller's snapshot (``read_tx``):

1. :func:`candidates` - the matching equipment (any status, so the answer can say "N
   match but are in maintenance"), only the columns ranking needs, plus each center's
   zone and freshness (one small query instead of joins per equipment row);
2. :func:`busy` - calendar entries overlapping the window, for the candidates the
   ranking walks through (usually a small part of them). One statement per chunk, the
   keys passed as one bound array (PostgreSQL ``unnest``, SQLite ``json_each``), so the
   statement is cached and planned as nested loops of short index range scans: entries
   up to a day long on (center_id, equipment_id, start_at) from ``window start - 1 day``
   (DESIGN.md section 9), longer ones on the partial index ``ix_entries_long`` (0004);
3. :func:`details` - names, tags and the center of the page's results only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    FromClause,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from hub.availability.query import SearchQuery
from hub.store.schema import center_sync, centers, entries, equipment

ESCAPE = "\\"
CHUNK = 1000
SHORT_ENTRY_SECONDS = 86_400
"""Entries up to this long are found by a range scan reaching this far before the window;
longer ones through the partial index ``ix_entries_long`` (migration 0004)."""
LONG_ENTRY = text("entries.end_at - entries.start_at > 86400")
"""The partial index's predicate, literally: a query can use the index only when its own
WHERE contains it (a bound value would not do)."""


"""Keys per statement in :func:`busy` and :func:`details`."""


def like_escape(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character taken literally."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _json_item(value: str) -> str:
    # The stored lists are JSON text written with ensure_ascii=False (hub.store.convert):
    # an item appears as its JSON string, quotes included.
    return json.dumps(value, ensure_ascii=False)


def _contains(col: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive LIKE against the bound pattern ``name`` (lower-cased by ``params``).

    SQLite's LIKE already ignores (ASCII) case. On PostgreSQL ``lower(col) LIKE`` scans
    1.5-2x faster than ``ILIKE`` (measured on 100,000 names, docs/benchmarks.md).
    """
    if dialect == "postgresql":
        return func.lower(col).like(bindparam(name), escape=ESCAPE)
    return col.like(bindparam(name), escape=ESCAPE)  # type: ignore[no-any-return]


def _substring(text: str) -> str:
    return "%" + like_escape(text) + "%"


def _sql_tags(query: SearchQuery, dialect: str) -> list[str]:
    # The SQL tag test is a prefilter: the exact comparison (lower-cased) runs in Python
    # (tag_match), so the SQL may over-match but must never under-match. SQLite's LIKE
    # folds ASCII letters only, so there only ASCII tags are pre-tested.
    return [t for t in query.capabilities if dialect != "sqlite" or t.isascii()]


Shape = tuple[str, bool, bool, bool, bool, bool, int, bool]
"""Which filters a query uses: statements are built (and cached) per shape."""


def shape(query: SearchQuery, dialect: str) -> Shape:
    return (
        dialect,
        query.category is not None,
        query.industry is not None,
        query.region is not None,
        query.stage is not None,
        query.service is not None,
        len(_sql_tags(query, dialect)),
        query.text is not None,
    )


def params(query: SearchQuery, dialect: str) -> dict[str, Any]:
    """The bound values of the filters of :func:`filters`."""
    out: dict[str, Any] = {
        "f_category": query.category,
        "f_industry": query.industry,
        "f_region": query.region,
        "f_stage": _substring(_json_item(query.stage)) if query.stage else None,
        "f_service": _substring(_json_item(query.service)) if query.service else None,
        "f_text": _substring(query.text.lower()) if query.text is not None else None,
    }
    for i, tag in enumerate(_sql_tags(query, dialect)):
        out[f"f_tag_{i}"] = _substring(_json_item(tag))
    return {k: v for k, v in out.items() if v is not None}


def filters(s: Shape) -> list[ColumnElement[bool]]:
    """WHERE terms over ``equipment``, values bound by name (``params``).

    Center filters become ``center_id IN (SELECT id FROM centers WHERE ...)``: joining
    centers instead made SQLite drive the scan from centers through the equipment primary
    key, twice as slow as scanning equipment (measured with free text over 100,000 rows).
    """
    dialect, category, industry, region, stage, service, tags, text = s
    e, c = equipment.c, centers.c
    terms: list[ColumnElement[bool]] = []
    if category:
        terms.append(e.category == bindparam("f_category"))
    if industry or region:
        wanted = select(c.id)
        if industry:
            wanted = wanted.where(c.industry == bindparam("f_industry"))
        if region:
            wanted = wanted.where(c.region == bindparam("f_region"))
        terms.append(e.center_id.in_(wanted.scalar_subquery()))
    if stage:
        terms.append(e.stages.like(bindparam("f_stage"), escape=ESCAPE))
    if service:
        terms.append(e.services.like(bindparam("f_service"), escape=ESCAPE))
    for i in range(tags):
        terms.append(_contains(e.capabilities, f"f_tag_{i}", dialect))
    if text:
        terms.append(
            or_(_contains(e.name_ko, "f_text", dialect), _contains(e.name_en, "f_text", dialect))
        )
    return terms


def tag_match(capabilities_json: str, wanted: Sequence[str]) -> bool:
    have = {str(t).lower() for t in json.loads(capabilities_json)}
    return all(t in have for t in wanted)


class Candidate(NamedTuple):
    """One matching equipment, as ranking needs it (a tuple: hundreds are built per
    search, and a frozen dataclass costs several times more to create)."""

    center_id: str
    equipment_id: str
    status: str
    operating_hours: str
    min_slot_minutes: int | None
    max_slot_minutes: int | None
    lead_time_minutes: int | None
    time_zone: str
    last_seen: int | None


@lru_cache(maxsize=256)
def _candidates_statement(s: Shape, with_tags: bool) -> Select[Any]:
    e = equipment.c
    cols: list[Any] = [
        e.center_id, e.id, e.status, e.operating_hours,
        e.min_slot_minutes, e.max_slot_minutes, e.lead_time_minutes,
    ]  # fmt: skip
    if with_tags:
        cols.append(e.capabilities)
    return select(*cols).where(*filters(s))


_CENTERS = select(centers.c.id, centers.c.time_zone, center_sync.c.last_seen).select_from(
    centers.join(center_sync, center_sync.c.center_id == centers.c.id)
)


def candidates(conn: Connection, query: SearchQuery, dialect: str) -> list[Candidate]:
    """Every equipment matching the filters (any status), with what ranking needs."""
    q = _candidates_statement(shape(query, dialect), bool(query.capabilities))
    # fetchall: iterating a Result fetches row by row, measurably slower on SQLite.
    rows = conn.execute(q, params(query, dialect)).all()
    if not rows:
        return []
    # A thousand small rows, read once, instead of three joins per equipment row.
    info = {r[0]: tuple(r[1:]) for r in conn.execute(_CENTERS).all()}
    if query.capabilities:
        wanted = query.capabilities
        return [Candidate._make((*r[:7], *info[r[0]])) for r in rows if tag_match(r[7], wanted)]
    return [Candidate._make((*r, *info[r[0]])) for r in rows]


def _keys(dialect: str) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """A table of keys (center, equipment) from one bound parameter."""
    if dialect == "postgresql":
        keys = (
            func.unnest(
                bindparam("k_c", type_=ARRAY(String)), bindparam("k_e", type_=ARRAY(String))
            )
            .table_valued("c", "e")
            .render_derived(name="k")
        )
        return keys, [keys.c.c, keys.c.e]
    each = func.json_each(bindparam("k_json")).table_valued("value").alias("k")
    return each, [func.json_extract(each.c.value, "$[0]"), func.json_extract(each.c.value, "$[1]")]


def _key_params(dialect: str, keys: Sequence[tuple[str, str]]) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"k_c": [k[0] for k in keys], "k_e": [k[1] for k in keys]}
    return {"k_json": json.dumps(keys, ensure_ascii=False)}


def overlapping(lo: Any, hi: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(short, long): conditions on ``entries`` that together find every entry
    overlapping [lo, hi) through bounded index range scans. A long entry starting within
    a day before ``lo`` matches both: callers merge intervals, so that is harmless."""
    n = entries.c
    overlaps = and_(n.start_at < hi, n.end_at > lo)
    return (
        and_(overlaps, n.start_at >= lo - SHORT_ENTRY_SECONDS),
        and_(overlaps, LONG_ENTRY),
    )


def busy(
    conn: Connection, cands: Sequence[Candidate], lo: int, hi: int
) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(center, equipment) -> its entries overlapping [lo, hi) (unsorted, may repeat)."""
    dialect = conn.dialect.name
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    keys = [(c.center_id, c.equipment_id) for c in cands]
    q = _busy_statement(dialect)
    for i in range(0, len(keys), CHUNK):
        params = {**_key_params(dialect, keys[i : i + CHUNK]), "lo": lo, "hi": hi}
        for center_id, equipment_id, start, end in conn.execute(q, params).all():
            out.setdefault((center_id, equipment_id), []).append((start, end))
    return out


@lru_cache(maxsize=4)
def _busy_statement(dialect: str) -> CompoundSelect[Any]:
    n = entries.c
    parts = []
    for condition in overlapping(bindparam("lo"), bindparam("hi")):
        table, (kc, ke) = _keys(dialect)
        parts.append(
            select(n.center_id, n.equipment_id, n.start_at, n.end_at)
            .select_from(table.join(entries, and_(n.center_id == kc, n.equipment_id == ke)))
            .where(condition)
        )
    return union_all(*parts)


def details(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Full rows (equipment + center + freshness) of ``keys``."""
    if not keys:
        return {}
    dialect = conn.dialect.name
    q = _details_statement(dialect)
    out: dict[tuple[str, str], Any] = {}
    for i in range(0, len(keys), CHUNK):
        for r in conn.execute(q, _key_params(dialect, keys[i : i + CHUNK])).all():
            out[(r.center_id, r.id)] = r
    return out


@lru_cache(maxsize=4)
def _details_statement(dialect: str) -> Select[Any]:
    table, (kc, ke) = _keys(dialect)
    e, c, s = equipment.c, centers.c, center_sync.c
    return select(
        e.center_id, e.id, e.name_ko, e.name_en, e.category, e.capabilities, e.status,
        e.stages, e.services,
        c.name_ko.label("center_name_ko"), c.name_en.label("center_name_en"),
        c.industry, c.region, c.time_zone, s.last_seen, s.last_sync,
    ).select_from(
        table.join(equipment, and_(e.center_id == kc, e.id == ke))
        .join(centers, c.id == e.center_id)
        .join(center_sync, s.center_id == e.center_id)
    )  # fmt: skip
