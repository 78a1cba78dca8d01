"""Checks a company's request draft and turns it into a :class:`ValidRequest`, or says why not.

Portals show the answer to a person filling in a form, so every problem is reported at
once (:class:`RequestInvalid` carries them all), each under the field path of the HTTP JSON
body (``company.business_number``, ``needs[2].hours``, ``stages[1]``), and each message says
what is wrong and what to write instead. Nothing here touches the store: a request that
fails here is never stored or routed. The same rules serve gRPC, HTTP and the CLI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hub.routing.brn import normalize_business_number
from hub.routing.guide import Area, StageGuide
from hub.routing.model import (
    ORIGIN_GUIDE,
    ORIGIN_REQUEST,
    Company,
    Draft,
    DraftNeed,
    FieldError,
    Need,
    RequestInvalid,
    ValidRequest,
)
from proto import codes

MAX_NEEDS = 20
MAX_WINDOW_DAYS = 92
"""As the availability search: longer windows cost more than they help."""
MAX_AHEAD_DAYS = 366
"""Centers' calendars rarely reach further; a later start is most likely a typo."""
PAST_GRACE_SECONDS = 86400
"""An earliest up to a day old is taken as "now" (a form left open overnight)."""
MAX_CAPABILITIES = 16
MAX_CODE_LENGTH = 64
MAX_REGION_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_GOAL_LENGTH = 2000
MAX_NOTE_LENGTH = 500
MAX_EMAIL_LENGTH = 254

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE_CHARS = frozenset("0123456789+-(). ")


class _Collector:
    """Gathers field errors; the whole draft is checked before anything is raised."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, field: str, value: Any, limit: int, required: str = "") -> str:
        """``value`` stripped; ``required`` (a hint what to write) makes empty an error."""
        if not isinstance(value, str):
            self.add(field, f"must be text, not {type(value).__name__}")
            return ""
        text = value.strip()
        if not text and required:
            self.add(field, f"is required; {required}")
        elif len(text) > limit:
            self.add(field, f"is {len(text)} characters long; shorten it to at most {limit}")
        elif "\x00" in text:
            self.add(field, "contains a NUL character; remove it")
        return text

    def code(self, field: str, value: Any, cmap: codes.CodeMap, required: bool) -> str | None:
        text = self.text(field, value, MAX_CODE_LENGTH)
        if not text:
            if required:
                self.add(field, f"is required; use one of: {', '.join(cmap.codes)}")
            return None
        try:
            return cmap.code(cmap.value(text))
        except ValueError as exc:
            self.add(field, str(exc))
            return None


MIN_INSTANT = 0
MAX_INSTANT = 253_402_300_799
"""1970-01-01 .. 9999-12-31T23:59:59Z: instants every part of the hub can render (the JSON
body's shape check uses the same bounds)."""


def _iso(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(c: _Collector, field: str, value: Any, what: str) -> int | None:
    if value is None:
        c.add(field, f"is required; give {what}")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        c.add(field, "must be a point in time (whole epoch seconds)")
        return None
    if not MIN_INSTANT <= value <= MAX_INSTANT:
        c.add(field, "is not a time between 1970 and 9999; give a date such as 2026-12-01T09:00")
        return None
    return value


def _window(
    c: _Collector, prefix: str, earliest: Any, latest: Any, now: int
) -> tuple[int, int] | None:
    """The checked window ``[start, latest)``, start clamped to ``now``; None on errors."""
    start = _instant(c, f"{prefix}earliest", earliest, "the first moment the work may start")
    end = _instant(c, f"{prefix}latest", latest, "the moment by which the work must be done")
    if start is None or end is None:
        return None
    if end <= start:
        c.add(
            f"{prefix}latest",
            f"latest ({_iso(end)}) is not after earliest ({_iso(start)}); "
            "give a window that ends after it starts",
        )
        return None
    if end <= now:
        c.add(
            f"{prefix}latest",
            f"the window ends in the past ({_iso(end)}); give a window that ends in the future",
        )
        return None
    if start < now - PAST_GRACE_SECONDS:
        c.add(
            f"{prefix}earliest",
            f"earliest ({_iso(start)}) is more than a day in the past; give a start from today on",
        )
        return None
    if start > now + MAX_AHEAD_DAYS * 86400:
        c.add(
            f"{prefix}earliest",
            f"earliest ({_iso(start)}) is more than {MAX_AHEAD_DAYS} days ahead; "
            "ask again closer to the time",
        )
        return None
    start = max(start, now)
    if end - start > MAX_WINDOW_DAYS * 86400:
        c.add(
            f"{prefix}latest",
            f"the window is {(end - start) / 86400:.1f} days long; make it at most "
            f"{MAX_WINDOW_DAYS} days (split longer work into several needs)",
        )
        return None
    return start, end


def _hours(c: _Collector, field: str, value: Any, window: tuple[int, int] | None) -> float | None:
    if value is None:
        c.add(field, "is required; give the hours of equipment time wanted, e.g. 8 or 1.5")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        c.add(field, "must be a number of hours, e.g. 8 or 1.5")
        return None
    if value <= 0:
        c.add(field, f"hours must be more than 0 (got {value:g}); write e.g. 8 or 1.5")
        return None
    if value > MAX_WINDOW_DAYS * 24:
        c.add(
            field,
            f"hours {value:g} is longer than any window ({MAX_WINDOW_DAYS} days); "
            "split the work into several needs",
        )
        return None
    minutes = value * 60
    if abs(minutes - round(minutes)) > 1e-6:
        c.add(field, f"hours {value:g} is not a whole number of minutes; round it, e.g. 1.25")
        return None
    if window is not None and _too_long(value, window):
        c.add(field, _too_long_message(value, window))
        return None
    return float(value)


def _too_long(hours: float, window: tuple[int, int]) -> bool:
    return round(hours * 3600) > window[1] - window[0]


def _too_long_message(hours: float, window: tuple[int, int]) -> str:
    return (
        f"hours {hours:g} is longer than the window ({(window[1] - window[0]) / 3600:g} h "
        "between earliest and latest); widen the window or ask for fewer hours"
    )


def _capabilities(c: _Collector, field: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        c.add(field, 'must be a list of capability tags, e.g. ["eds", "1nm-resolution"]')
        return ()
    tags: list[str] = []
    for k, tag in enumerate(value):
        text = c.text(f"{field}[{k}]", tag, MAX_CODE_LENGTH)
        if text:
            tags.append(text.lower())
    unique = tuple(dict.fromkeys(tags))
    if len(unique) > MAX_CAPABILITIES:
        c.add(field, f"{len(unique)} capabilities given; ask for at most {MAX_CAPABILITIES}")
    return unique


def _company(c: _Collector, company: Company) -> Company:
    p = "company."
    name = c.text(f"{p}name", company.name, MAX_NAME_LENGTH, "write the company's name")
    contact = c.text(
        f"{p}contact_name", company.contact_name, MAX_NAME_LENGTH, "write who the center calls"
    )
    number = c.text(f"{p}business_number", company.business_number, 40)
    if not number:
        c.add(
            f"{p}business_number",
            "is required; write the 10-digit 사업자등록번호, e.g. 123-45-67890",
        )
    else:
        try:
            number = normalize_business_number(number)
        except ValueError as exc:
            c.add(f"{p}business_number", str(exc))
    email = c.text(f"{p}contact_email", company.contact_email, MAX_EMAIL_LENGTH)
    if email and not _EMAIL.match(email):
        c.add(f"{p}contact_email", f"{email[:80]!r} is not an email address; write name@example.kr")
    phone = c.text(f"{p}contact_phone", company.contact_phone, 32)
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not set(phone) <= _PHONE_CHARS or not 7 <= digits <= 15):
        c.add(
            f"{p}contact_phone",
            f"{phone!r} is not a phone number; write 7 to 15 digits, e.g. 02-1234-5678 or "
            "+82 10-1234-5678",
        )
    if not email and not phone:
        c.add(
            f"{p}contact_email",
            "give a contact email or a phone number (company.contact_phone) so the center can "
            "reach the company",
        )
    return Company(name, number, contact, email, phone)


def _area(c: _Collector, value: Any, guide: StageGuide) -> Area | None:
    allowed = ", ".join(guide.codes)
    text = c.text("technology_area", value, MAX_CODE_LENGTH)
    if not text:
        c.add("technology_area", f"is required; use one of: {allowed}")
        return None
    area = guide.area(text)
    if area is None:
        c.add("technology_area", f"unknown technology area {text[:80]!r}; use one of: {allowed}")
    return area


def _need(c: _Collector, i: int, d: DraftNeed, now: int) -> Need | None:
    p = f"needs[{i}]."
    before = len(c.errors)
    stage = c.code(f"{p}stage", d.stage, codes.STAGE, required=True)
    category = c.text(f"{p}category", d.category, MAX_CODE_LENGTH)
    caps = _capabilities(c, f"{p}capabilities", d.capabilities)
    if not category and not caps:
        c.add(
            f"{p}category",
            "give an equipment category (e.g. battery-cycler), capabilities, or both",
        )
    service = c.code(f"{p}service", d.service, codes.SERVICE, required=False)
    window = _window(c, p, d.earliest, d.latest, now)
    hours = _hours(c, f"{p}hours", d.hours, window)
    region = c.text(f"{p}region", d.region, MAX_REGION_LENGTH)
    note = c.text(f"{p}note", d.note, MAX_NOTE_LENGTH)
    if len(c.errors) > before or stage is None or window is None or hours is None:
        return None
    return Need(
        stage=stage,
        category=category or None,
        capabilities=caps,
        service=service,
        hours=hours,
        earliest=window[0],
        latest=window[1],
        region=region or None,
        note=note,
        origin=ORIGIN_REQUEST,
    )


def _guide_needs(c: _Collector, draft: Draft, area: Area | None, now: int) -> list[Need]:
    """The needs the guide proposes for the draft's stages, on the draft's window."""
    stages: list[tuple[int, str]] = []
    for i, raw in enumerate(draft.stages):
        stage = c.code(f"stages[{i}]", raw, codes.STAGE, required=True)
        if stage is None or any(s == stage for _, s in stages):
            continue
        if area is not None and not area.needs_for(stage):
            c.add(
                f"stages[{i}]",
                f"the guide has no needs for stage {stage!r} in area {area.code!r}; use one of: "
                f"{', '.join(area.stages)}, or list the needs yourself",
            )
            continue
        stages.append((i, stage))
    window = _window(c, "", draft.earliest, draft.latest, now)
    hours = None if draft.hours is None else _hours(c, "hours", draft.hours, window)
    region = c.text("region", draft.region, MAX_REGION_LENGTH)
    if area is None or window is None or (draft.hours is not None and hours is None):
        return []
    needs: list[Need] = []
    for i, stage in stages:
        proposed = area.needs_for(stage)
        too_long = [g for g in proposed if _too_long(hours or g.hours, window)]
        if too_long:
            plans = ", ".join(
                f"{g.hours:g} h of {g.category or '+'.join(g.capabilities)}" for g in too_long
            )
            c.add(
                f"stages[{i}]",
                f"the guide plans {plans} at stage {stage!r}, longer than the window "
                f"({(window[1] - window[0]) / 3600:g} h); widen the window or set hours",
            )
            continue
        needs += [
            Need(
                stage=stage,
                category=g.category,
                capabilities=g.capabilities,
                service=g.service,
                hours=hours or g.hours,
                earliest=window[0],
                latest=window[1],
                region=region or None,
                note=g.note,
                origin=ORIGIN_GUIDE,
            )
            for g in proposed
        ]
    return needs


def validate(draft: Draft, guide: StageGuide, now: int) -> ValidRequest:
    """The checked, canonical request; :class:`RequestInvalid` lists every problem at once."""
    c = _Collector()
    company = _company(c, draft.company)
    title = c.text("project_title", draft.project_title, MAX_TITLE_LENGTH, "name the project")
    area = _area(c, draft.technology_area, guide)
    goal = c.text("goal", draft.goal, MAX_GOAL_LENGTH)
    needs: list[Need] = []
    if draft.needs and draft.stages:
        c.add(
            "stages",
            "give either needs or stages, not both: stages ask the guide to propose the needs",
        )
    elif draft.needs:
        if len(draft.needs) > MAX_NEEDS:
            c.add(
                "needs",
                f"{len(draft.needs)} needs given; ask for at most {MAX_NEEDS} per request "
                "(split the project into several requests)",
            )
        for i, d in enumerate(draft.needs):
            need = _need(c, i, d, now)
            if need is not None:
                needs.append(need)
    elif draft.stages:
        needs = _guide_needs(c, draft, area, now)
        if len(needs) > MAX_NEEDS:
            c.add(
                "stages",
                f"the guide proposes {len(needs)} needs for these stages; at most {MAX_NEEDS} "
                "fit one request: name fewer stages or split the project",
            )
    else:
        c.add(
            "needs",
            "is empty; list what you need at each stage, or name the stages (with earliest and "
            "latest) for the stage guide to propose the needs",
        )
    if c.errors or area is None:
        raise RequestInvalid(c.errors)
    return ValidRequest(
        company=company,
        project_title=title,
        technology_area=area.code,
        industry=area.industry,
        goal=goal,
        needs=tuple(needs),
    )
