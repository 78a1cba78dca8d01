"""iCalendar (.ics) files: busy time from a booking system's or a shared calendar's export.

Which equipment an event blocks comes either from the file name (one calendar
per equipment: ``XRD-01.ics`` -> ``XRD-01``; ``equipment_id_from = "filename"``)
or from a property (default ``X-IPLAT-EQUIPMENT-ID``) on each event or on the
calendar itself.

Recurring events (RRULE, RDATE, EXDATE, moved instances with RECURRENCE-ID) are
expanded within [now - 1 day, now + horizon_days] by recurring-ical-events.
TZID is honoured; times without a zone and all-day events are in the center's
time zone. Transparent (free) and cancelled events are skipped. Kind: an
``X-IPLAT-KIND`` property, else a kind code in CATEGORIES, else ``tentative``
for STATUS:TENTATIVE, else the source's ``default_kind``.

Entry id: the UID, plus ``@`` and the instance's original start in compact UTC
for recurring events, mapped onto the record id charset; an id that had to be
changed or shortened gets a hash of the original so two events never share an
id. SUMMARY, DESCRIPTION, ATTENDEE, ORGANIZER and every other property are
never read: who booked stays at the center.

A file that cannot be parsed fails the whole read (SourceError naming it): a
partial read would look like deletions. A bad event becomes a Problem with the
line of its UID.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from iplatform.v1 import message_pb2 as m

from agent.errors import SourceError
from agent.sources import fields
from agent.sources.base import IdTracker, Problem, Snapshot, Source
from proto import identity, limits, timeconv, validate

if TYPE_CHECKING:
    from agent.config import SourceConfig

Clock = Callable[[], datetime]
_GLOB = re.compile(r"[*?\[]")
_INVALID_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def entry_id(uid: str, instance: datetime | date | None) -> str:
    """The record id of an event (``instance``: original start of a recurrence)."""
    raw = uid
    if instance is not None:
        raw += "@" + (
            instance.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            if isinstance(instance, datetime)
            else instance.strftime("%Y%m%d")
        )
    if identity.valid_name(raw) and len(raw) <= limits.MAX_ID_LENGTH:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    head = _INVALID_ID_CHARS.sub("_", raw).lstrip("._-")
    return f"{head[: limits.MAX_ID_LENGTH - len(digest) - 1]}-{digest}".lstrip("-")


def _uid_lines(text: str) -> dict[str, int]:
    """UID -> line number of its first UID property (folded lines unfolded)."""
    out: dict[str, int] = {}
    logical: str | None = None
    start = 0

    def flush() -> None:
        if logical is not None and logical[:4].upper() in ("UID:", "UID;"):
            out.setdefault(logical.split(":", 1)[1].strip(), start)

    for n, line in enumerate(text.splitlines(), 1):
        if line[:1] in (" ", "\t") and logical is not None:
            logical += line[1:]
        else:
            flush()
            logical, start = line, n
    flush()
    return out


class IcalSource(Source):
    def __init__(
        self, config: SourceConfig, timezone: ZoneInfo, clock: Clock | None = None
    ) -> None:
        super().__init__(config)
        self.tz = timezone
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.default_kind = fields.parse_kind(config.default_kind)

    def _where(self) -> str:
        return f"source {self.name!r}"

    def files(self) -> list[Path]:
        """The .ics files the configured paths name now, in a stable order."""
        found: list[Path] = []
        for p in self.config.paths:
            if _GLOB.search(str(p)):
                base = _glob_base(p)
                if not base.is_dir():
                    raise SourceError(
                        f"{self._where()}: directory {base} of pattern {p} does not exist; "
                        "check 'paths' in agent.toml and that the share is mounted"
                    )
                pattern = str(p.relative_to(base))
                found += sorted(f for f in base.glob(pattern) if f.is_file())
            elif p.is_dir():
                found += sorted(
                    f for f in p.iterdir() if f.suffix.lower() == ".ics" and f.is_file()
                )
            elif p.is_file():
                found.append(p)
            else:
                raise SourceError(
                    f"{self._where()}: {p} does not exist; check 'paths' in agent.toml "
                    "and that the calendar export ran"
                )
        return list(dict.fromkeys(found))

    def watch_paths(self) -> list[Path]:
        return [_glob_base(p) if _GLOB.search(str(p)) else p for p in self.config.paths]

    def read(self) -> Snapshot:
        now = self.clock()
        window = (now - timedelta(days=1), now + timedelta(days=self.config.horizon_days))
        snap = Snapshot()
        ids = IdTracker()
        for path in self.files():
            self._read_file(path, window, snap, ids)
        return snap

    def _read_file(
        self, path: Path, window: tuple[datetime, datetime], snap: Snapshot, ids: IdTracker
    ) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(
                f"{self._where()}: cannot read {path} ({exc.strerror}); check its permissions"
            ) from None
        try:
            calendars = icalendar.Calendar.from_ical(data, multiple=True)
        except ValueError as exc:
            raise SourceError(
                f"{self._where()}: {path} is not a valid iCalendar file ({exc}); "
                "re-export it from the calendar system"
            ) from None
        if not calendars:
            raise SourceError(
                f"{self._where()}: {path} holds no VCALENDAR; re-export it from the calendar system"
            )
        lines = _uid_lines(data.decode("utf-8", errors="replace"))

        def problem(message: str, uid: str | None = None) -> None:
            line = lines.get(uid) if uid else None
            prefix = f"event {uid!r}: " if uid and line is None else ""
            snap.problems.append(Problem(self.name, path.name, line, prefix + message))

        file_equipment: str | None = None
        if self.config.equipment_id_from == "filename":
            file_equipment = path.stem
            if not identity.valid_name(file_equipment):
                problem(
                    f"file name {path.stem!r} is not a valid equipment id (letters, digits, "
                    "'.', '_', '-'); rename the file to the equipment's id"
                )
                return
        for cal in calendars:
            self._read_calendar(cal, path, window, snap, ids, file_equipment, problem)

    def _read_calendar(
        self,
        cal: Any,
        path: Path,
        window: tuple[datetime, datetime],
        snap: Snapshot,
        ids: IdTracker,
        file_equipment: str | None,
        problem: Callable[..., None],
    ) -> None:
        groups: dict[str, list[Any]] = {}
        for ev in cal.walk("VEVENT"):
            uid = str(ev.get("UID", "")).strip()
            if not uid:
                # Stable across reads as long as the event keeps its times.
                seed = f"{path.name}|{_raw(ev, 'DTSTART')}|{_raw(ev, 'DTEND')}"
                uid = "nouid-" + hashlib.sha256(seed.encode()).hexdigest()[:20]
            groups.setdefault(uid, []).append(ev)
        prop = self.config.equipment_property
        cal_equipment = str(cal.get(prop, "")).strip() or None
        for uid, group in groups.items():
            bad = [f"{name}: {err}" for ev in group for name, err in getattr(ev, "errors", [])]
            if bad:
                problem("; ".join(bad) + "; fix the event in the calendar system", uid)
                continue
            inverted = next((ev for ev in group if _inverted(ev, self.tz)), None)
            if inverted is not None:
                problem("end is not after start (inverted interval)", uid)
                continue
            recurring = any("RRULE" in ev or "RDATE" in ev or "RECURRENCE-ID" in ev for ev in group)
            sub = icalendar.Calendar()
            for key, value in cal.items():
                sub.add(key, value)
            for tz_component in cal.walk("VTIMEZONE"):
                sub.add_component(tz_component)
            for ev in group:
                sub.add_component(ev)
            try:
                occurrences = list(recurring_ical_events.of(sub).between(*window))
            except (recurring_ical_events.InvalidCalendar, ValueError, TypeError) as exc:
                problem(f"cannot expand the event ({exc}); fix it in the calendar system", uid)
                continue
            for occ in occurrences:
                self._occurrence(
                    occ, uid, recurring, file_equipment or cal_equipment, snap, ids, problem
                )

    def _occurrence(
        self,
        occ: Any,
        uid: str,
        recurring: bool,
        default_equipment: str | None,
        snap: Snapshot,
        ids: IdTracker,
        problem: Callable[..., None],
    ) -> None:
        if str(occ.get("TRANSP", "")).upper() == "TRANSPARENT":
            return
        status = str(occ.get("STATUS", "")).upper()
        if status == "CANCELLED":
            return
        if default_equipment is not None and self.config.equipment_id_from == "filename":
            equipment = default_equipment
        else:
            equipment = str(occ.get(self.config.equipment_property, "")).strip() or (
                default_equipment or ""
            )
            if not equipment:
                problem(
                    f"no {self.config.equipment_property} property names the equipment; add it "
                    'to the event or use equipment_id_from = "filename"',
                    uid,
                )
                return
        try:
            kind = self._kind(occ, status)
        except ValueError as exc:
            problem(str(exc), uid)
            return
        start, end = self._instant(occ.start), self._instant(occ.end)
        if start == end:
            return  # a point in time (a reminder) blocks nothing
        instance = occ.get("RECURRENCE-ID")
        record = m.CalendarEntry(
            id=entry_id(
                uid, (instance.dt if instance is not None else occ.start) if recurring else None
            ),
            equipment_id=equipment,
            start=timeconv.from_datetime(start),
            end=timeconv.from_datetime(end),
            kind=kind,
        )
        issues = validate.entry(record)
        if issues:
            problem("; ".join(issues), uid)
            return
        if ids.claim(record.id, uid) is not None:
            problem(f"duplicate entry id {record.id!r}; this occurrence is ignored", uid)
            return
        snap.entries.append(record)

    def _kind(self, occ: Any, status: str) -> int:
        explicit = occ.get("X-IPLAT-KIND")
        if explicit is not None:
            return fields.parse_kind(str(explicit))
        for category in _categories(occ):
            try:
                return fields.parse_kind(category)
            except ValueError:
                continue  # ordinary categories ("Meeting") say nothing about the kind
        if status == "TENTATIVE":
            return fields.parse_kind("tentative")
        return self.default_kind

    def _instant(self, value: datetime | date) -> datetime:
        if isinstance(value, datetime):
            return fields.localize(value, self.tz)
        # All-day events cover whole days of the center's calendar.
        return datetime.combine(value, time(0), tzinfo=self.tz)


def _categories(ev: Any) -> list[str]:
    raw = ev.get("CATEGORIES")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        out += [str(c) for c in getattr(item, "cats", [item])]
    return out


def _inverted(ev: Any, tz: ZoneInfo) -> bool:
    """True if DTEND is before DTSTART (recurring-ical-events would quietly swap them)."""
    if "DTSTART" not in ev or "DTEND" not in ev:
        return False
    start, end = ev["DTSTART"].dt, ev["DTEND"].dt

    def norm(v: datetime | date) -> datetime:
        if isinstance(v, datetime):
            return fields.localize(v, tz)
        return datetime.combine(v, time(0), tzinfo=tz)

    return bool(norm(end) < norm(start))


def _raw(ev: Any, name: str) -> str:
    return ev[name].to_ical().decode() if name in ev else ""


def _glob_base(pattern: Path) -> Path:
    """The longest leading part of ``pattern`` without wildcards."""
    base = Path(pattern.parts[0])
    for part in pattern.parts[1:]:
        if _GLOB.search(part):
            break
        base /= part
    return base
