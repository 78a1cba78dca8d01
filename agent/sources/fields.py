"""Field values as centers write them, parsed into record fields.

CSV cells are text; SQL drivers hand back ``str``, ``int``, ``Decimal``,
``datetime`` or lists. Every parser here takes any of them and raises
``ValueError`` with a message a center's IT staff can act on. ``build_equipment``
and ``build_entry`` turn one row (canonical column name -> value) into a record
plus the list of everything wrong with it, so the CSV and SQL sources share one
set of rules.

Only the canonical columns are ever read: any other column of a row (a
customer's name, a phone number) is never looked at, so it cannot leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from iplatform.v1 import message_pb2 as m

from proto import codes, timeconv, validate

EQUIPMENT_REQUIRED = ("id", "name_ko", "name_en", "category", "status")
EQUIPMENT_OPTIONAL = (
    "capabilities",
    "manufacturer",
    "model",
    "year_acquired",
    "stages",
    "services",
    "location",
    "fee_note",
    "min_slot_minutes",
    "max_slot_minutes",
    "lead_time_minutes",
    "hours",
)
EQUIPMENT_COLUMNS = EQUIPMENT_REQUIRED + EQUIPMENT_OPTIONAL
CALENDAR_REQUIRED = ("id", "equipment_id", "start", "end", "kind")
CALENDAR_COLUMNS = CALENDAR_REQUIRED

# Words centers already use in their own spreadsheets and booking systems.
# Keys are compared with spaces removed, so "점검 중" matches "점검중".
STATUS_ALIASES_KO: Mapping[str, str] = {
    "사용가능": "available",
    "가능": "available",
    "가용": "available",
    "정상": "available",
    "제한": "limited",
    "제한적": "limited",
    "일부가능": "limited",
    "점검": "maintenance",
    "점검중": "maintenance",
    "유지보수": "maintenance",
    "정비": "maintenance",
    "고장": "out-of-service",
    "수리중": "out-of-service",
    "사용불가": "out-of-service",
    "폐기": "retired",
    "불용": "retired",
}
KIND_ALIASES_KO: Mapping[str, str] = {
    "예약": "booked",
    "예약됨": "booked",
    "확정": "booked",
    "가예약": "tentative",
    "임시예약": "tentative",
    "점검": "maintenance",
    "유지보수": "maintenance",
    "정비": "maintenance",
    "휴무": "closure",
    "휴관": "closure",
    "휴일": "closure",
}

_DAYS = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "월": 1, "화": 2, "수": 3, "목": 4, "금": 5, "토": 6, "일": 7,
}  # fmt: skip
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LIST_SEP = re.compile(r"[;|]")
_HOURS_ITEM = re.compile(r"^(?P<days>[^\s\d]+)\s+(?P<times>.+)$")
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def text(value: object) -> str:
    """A cell as stripped text; ``None`` (SQL NULL) is empty."""
    if value is None:
        return ""
    return str(value).strip()


def _short(value: object) -> str:
    # Keep messages readable when a cell holds a whole paragraph.
    s = text(value)
    return repr(s if len(s) <= 60 else s[:57] + "...")


def _alias(value: object, what: codes.CodeMap, aliases: Mapping[str, str]) -> int:
    s = text(value)
    key = s.replace(" ", "")
    if key in aliases:
        return what.value(aliases[key])
    if not s:
        raise ValueError(f"{what.what} is empty; use one of: {', '.join(what.codes)}")
    try:
        return what.value(s)
    except ValueError:
        raise ValueError(
            f"unknown {what.what} {_short(s)}; use one of: {', '.join(what.codes)} "
            f"(or the Korean words {', '.join(sorted(aliases))})"
        ) from None


def parse_status(value: object) -> int:
    """An equipment status code or Korean word -> ``pb.EquipmentStatus`` value."""
    return _alias(value, codes.STATUS, STATUS_ALIASES_KO)


def parse_kind(value: object) -> int:
    """A calendar entry kind code or Korean word -> ``pb.EntryKind`` value."""
    return _alias(value, codes.ENTRY_KIND, KIND_ALIASES_KO)


def split_list(value: object) -> list[str]:
    """Items separated by ``;`` or ``|`` (or an SQL array); blanks and repeats dropped."""
    if isinstance(value, list | tuple):
        items = [text(v) for v in value]
    else:
        items = [part.strip() for part in _LIST_SEP.split(text(value))]
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


def parse_codes(value: object, what: codes.CodeMap) -> list[int]:
    """A list of codes (stages, services), sorted by enum value so the record is canonical."""
    return sorted({what.value(item) for item in split_list(value)})


def parse_uint(value: object, name: str) -> int:
    """A non-negative integer; empty means 0 (the proto's "unknown / no rule")."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float | Decimal) and value == int(value):
        n = int(value)
    else:
        s = text(value)
        if not s:
            return 0
        if s.endswith(".0"):  # spreadsheets like to write 2019 as 2019.0
            s = s[:-2]
        if not s.isascii() or not s.isdigit():
            raise ValueError(f"{name} must be a whole number, got {_short(value)}")
        n = int(s)
    if not 0 <= n < 2**32:
        raise ValueError(f"{name} must be between 0 and {2**32 - 1}, got {n}")
    return n


def _clock(hh: str, mm: str, item: str) -> int:
    h, m = int(hh), int(mm)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise ValueError(f"hours {item!r}: {hh}:{mm} is not a time of day")
    return h * 60 + m


def _days(spec: str, item: str) -> list[int]:
    days: list[int] = []
    for part in spec.lower().split(","):
        if "-" in part:
            a, _, b = part.partition("-")
            if a not in _DAYS or b not in _DAYS:
                raise ValueError(f"hours {item!r}: unknown day range {part!r}; use e.g. mon-fri")
            first, last = _DAYS[a], _DAYS[b]
            # A range may wrap around the week, e.g. sat-mon.
            span = (last - first) % 7
            days += [(first - 1 + i) % 7 + 1 for i in range(span + 1)]
        elif part in _DAYS:
            days.append(_DAYS[part])
        else:
            raise ValueError(
                f"hours {item!r}: unknown day {part!r}; use mon tue wed thu fri sat sun"
            )
    return days


def parse_hours(value: object) -> list[m.WeeklyHours]:
    """A weekly template such as ``mon-fri 09:00-12:00 13:00-18:00; sat 09:00-13:00``.

    Items are separated by ``;`` or new lines; each names days (``mon``, ``mon-fri``,
    ``mon,wed``; Korean ``월``..``일`` too) and one or more ``HH:MM-HH:MM`` ranges in
    the center's local time (``24:00`` ends a day). A range cannot cross midnight:
    write ``fri 22:00-24:00; sat 00:00-06:00``. Result sorted by weekday and start.
    """
    out: set[tuple[int, int, int]] = set()
    for raw in re.split(r"[;\n]", text(value)):
        item = raw.strip()
        if not item:
            continue
        parsed = _HOURS_ITEM.match(item)
        if not parsed:
            raise ValueError(f"hours {item!r}: write days then times, e.g. 'mon-fri 09:00-18:00'")
        days = _days(parsed["days"], item)
        for rng in re.split(r"[\s,]+", parsed["times"].strip()):
            t = _TIME_RANGE.match(rng)
            if not t:
                raise ValueError(f"hours {item!r}: {rng!r} is not a range like 09:00-18:00")
            start, end = _clock(t[1], t[2], item), _clock(t[3], t[4], item)
            if start >= end:
                raise ValueError(
                    f"hours {item!r}: {rng} ends before it starts; split ranges at midnight"
                )
            out.update((d, start, end) for d in days)
    return [m.WeeklyHours(weekday=d, start_minute=s, end_minute=e) for d, s, e in sorted(out)]


def format_hours(hours: Iterable[m.WeeklyHours]) -> str:
    """The inverse of ``parse_hours`` (one item per interval)."""
    return "; ".join(
        f"{_DAY_NAMES[h.weekday - 1]} {h.start_minute // 60:02d}:{h.start_minute % 60:02d}-"
        f"{h.end_minute // 60:02d}:{h.end_minute % 60:02d}"
        for h in hours
    )


def localize(dt: datetime, tz: ZoneInfo) -> datetime:
    """Attach the center's zone to a naive local time.

    An ambiguous time (the repeated hour when clocks go back) is read as the first
    occurrence; a time inside the gap when clocks go forward is read with the offset
    in force before the gap, i.e. it lands as much later as the gap is long.
    """
    if dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=tz, fold=0)


def parse_time(value: object, tz: ZoneInfo, name: str) -> datetime:
    """An ISO 8601 instant. With an offset or ``Z`` it is exact; without one it is the
    center's local time; a bare date is local midnight."""
    if isinstance(value, datetime):
        return localize(value, tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    s = text(value)
    if not s:
        raise ValueError(f"{name} is empty; write e.g. 2026-03-02T09:00 or 2026-03-02T09:00+09:00")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(
            f"{name} {_short(s)} is not an ISO 8601 time; write e.g. 2026-03-02T09:00 "
            "(center time) or 2026-03-02T00:00Z"
        ) from None
    return localize(dt, tz)


def build_equipment(row: Mapping[str, object]) -> tuple[m.Equipment, list[str]]:
    """A record from one row of canonical columns, and what is wrong with it."""
    problems: list[str] = []
    eq = m.Equipment(
        id=text(row.get("id")),
        name_ko=text(row.get("name_ko")),
        name_en=text(row.get("name_en")),
        category=text(row.get("category")),
        manufacturer=text(row.get("manufacturer")),
        model=text(row.get("model")),
        location=text(row.get("location")),
        fee_note=text(row.get("fee_note")),
    )

    def attempt(fn: Callable[[], None]) -> None:
        try:
            fn()
        except ValueError as exc:
            problems.append(str(exc))

    def status() -> None:
        eq.status = parse_status(row.get("status"))

    def year() -> None:
        eq.year_acquired = parse_uint(row.get("year_acquired"), "year_acquired")

    def stages() -> None:
        eq.stages.extend(parse_codes(row.get("stages"), codes.STAGE))

    def services() -> None:
        eq.services.extend(parse_codes(row.get("services"), codes.SERVICE))

    def hours() -> None:
        eq.operating_hours.extend(parse_hours(row.get("hours")))

    def rules() -> None:
        for name in ("min_slot_minutes", "max_slot_minutes", "lead_time_minutes"):
            try:
                setattr(eq.booking_rules, name, parse_uint(row.get(name), name))
            except ValueError as exc:
                problems.append(str(exc))

    for fn in (status, year, stages, services, hours, rules):
        attempt(fn)
    eq.capabilities.extend(split_list(row.get("capabilities")))
    if not problems:
        problems += validate.equipment(eq)
    return eq, problems


def build_entry(row: Mapping[str, object], tz: ZoneInfo) -> tuple[m.CalendarEntry, list[str]]:
    """A calendar entry from one row of canonical columns, and what is wrong with it."""
    problems: list[str] = []
    en = m.CalendarEntry(id=text(row.get("id")), equipment_id=text(row.get("equipment_id")))
    for name, target in (("start", en.start), ("end", en.end)):
        try:
            target.CopyFrom(timeconv.from_datetime(parse_time(row.get(name), tz, name)))
        except ValueError as exc:
            problems.append(str(exc))
    try:
        en.kind = parse_kind(row.get("kind"))
    except ValueError as exc:
        problems.append(str(exc))
    if not problems:
        problems += validate.entry(en)
    return en, problems
