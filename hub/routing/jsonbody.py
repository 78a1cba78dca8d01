"""A request draft from its JSON body (``POST /v1/requests``, ``iplat-hub requests submit``).

The body mirrors ``pb.RequestDraft`` in snake_case, with codes as text (``"validation"``,
``"test-analysis"``) and times as ISO 8601; a time without an offset is read in the
body's ``time_zone`` (default Asia/Seoul), as a company in Korea would mean it::

    {"company": {"name": "...", "business_number": "123-45-67890", "contact_name": "...",
                 "contact_email": "...", "contact_phone": "..."},
     "project_title": "...", "technology_area": "secondary-battery-cell", "goal": "...",
     "needs": [{"stage": "validation", "category": "battery-cycler", "capabilities": [],
                "service": "test-analysis", "hours": 8, "earliest": "2027-01-04T09:00",
                "latest": "2027-01-29T18:00", "region": "대전", "note": ""}],
     "stages": [], "earliest": null, "latest": null, "region": "", "hours": null,
     "time_zone": "Asia/Seoul"}

Only the shape is checked here: a value of the wrong JSON type, an unknown field, or a
time that is not ISO 8601 is a :class:`BodyError` naming the field (HTTP 400, CLI exit
2). Whether the values make a valid request (known codes, windows, lengths) is
:func:`hub.routing.validate.validate`'s job, which reports with the same field paths.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hub.availability import QueryError, parse_instant
from hub.availability.query import DEFAULT_TIME_ZONE
from hub.routing.model import Company, Draft, DraftNeed, FieldError
from hub.routing.validate import MAX_INSTANT, MIN_INSTANT
from proto import identity

MAX_LIST = 100
"""Longest list accepted in a body (validation has tighter limits; this bounds the work)."""
MAX_HOURS = 1_000_000
"""Hours beyond any window (validation compares them with it); bounds the arithmetic."""

_COMPANY = ("name", "business_number", "contact_name", "contact_email", "contact_phone")
_NEED = (
    "stage",
    "category",
    "capabilities",
    "service",
    "hours",
    "earliest",
    "latest",
    "region",
    "note",
)
DRAFT_FIELDS = (
    "company",
    "project_title",
    "technology_area",
    "goal",
    "needs",
    "stages",
    "earliest",
    "latest",
    "region",
    "hours",
    "time_zone",
)


class BodyError(ValueError):
    """The body is not JSON of the documented shape; ``errors`` name each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes | str) -> Any:
    """Strict JSON (no NaN/Infinity); BodyError naming the body when it does not parse."""
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise BodyError([FieldError("body", "is not UTF-8 text; send JSON in UTF-8")]) from None
    except ValueError as exc:
        raise BodyError([FieldError("body", f"is not valid JSON ({exc})")]) from None


class _Reader:
    """Reads typed values out of a JSON object, collecting every error before failing."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path or "body", f"must be a JSON object, not {_kind(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(_join(path, key), f"unknown field; allowed: {', '.join(allowed)}")
        return value

    def text(self, data: dict[str, Any], key: str, path: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(_join(path, key), f"must be a string, not {_kind(value)}")
            return ""
        return value

    def texts(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        where = _join(path, key)
        if not isinstance(value, list):
            self.fail(where, f"must be a list of strings, not {_kind(value)}")
            return ()
        if len(value) > MAX_LIST:
            self.fail(where, f"has {len(value)} entries; at most {MAX_LIST}")
            return ()
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"{where}[{i}]", f"must be a string, not {_kind(item)}")
            else:
                out.append(item)
        return tuple(out)

    def number(self, data: dict[str, Any], key: str, path: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(_join(path, key), f"must be a number of hours, not {_kind(value)}")
            return None
        if not math.isfinite(float(value)) or abs(value) > MAX_HOURS:
            self.fail(_join(path, key), f"must be a number of hours up to {MAX_HOURS}")
            return None
        return float(value)

    def time(self, data: dict[str, Any], key: str, path: str, tz: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        where = _join(path, key)
        if not isinstance(value, str):
            self.fail(where, f"must be an ISO 8601 time string, not {_kind(value)}")
            return None
        try:
            instant = parse_instant(value, where, tz)
        except QueryError as exc:
            self.fail(where, str(exc))
            return None
        except (OverflowError, OSError):
            instant = -1
        if not MIN_INSTANT <= instant <= MAX_INSTANT:
            self.fail(where, f"{value[:40]!r} is out of range; give a time after 1970")
            return None
        return instant


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _need(r: _Reader, value: Any, path: str, tz: str) -> DraftNeed:
    data = r.obj(value, path, _NEED)
    return DraftNeed(
        stage=r.text(data, "stage", path),
        category=r.text(data, "category", path),
        capabilities=r.texts(data, "capabilities", path),
        service=r.text(data, "service", path),
        hours=r.number(data, "hours", path),
        earliest=r.time(data, "earliest", path, tz),
        latest=r.time(data, "latest", path, tz),
        region=r.text(data, "region", path),
        note=r.text(data, "note", path),
    )


def draft_from_json(value: Any) -> Draft:
    """The draft in a parsed JSON body; raises :class:`BodyError` listing every bad field."""
    r = _Reader()
    data = r.obj(value, "", DRAFT_FIELDS)
    tz = r.text(data, "time_zone", "") or DEFAULT_TIME_ZONE
    try:
        parse_instant("2000-01-01T00:00", "time_zone", tz)
    except QueryError as exc:
        r.fail("time_zone", str(exc))
        tz = DEFAULT_TIME_ZONE
    company = r.obj(data.get("company") or {}, "company", _COMPANY)
    needs_raw = data.get("needs")
    needs: list[DraftNeed] = []
    if needs_raw is not None and not isinstance(needs_raw, list):
        r.fail("needs", f"must be a list of needs, not {_kind(needs_raw)}")
    elif needs_raw is not None and len(needs_raw) > MAX_LIST:
        r.fail("needs", f"has {len(needs_raw)} entries; at most {MAX_LIST}")
    elif needs_raw is not None:
        needs = [_need(r, n, f"needs[{i}]", tz) for i, n in enumerate(needs_raw)]
    draft = Draft(
        company=Company(
            name=r.text(company, "name", "company"),
            business_number=r.text(company, "business_number", "company"),
            contact_name=r.text(company, "contact_name", "company"),
            contact_email=r.text(company, "contact_email", "company"),
            contact_phone=r.text(company, "contact_phone", "company"),
        ),
        project_title=r.text(data, "project_title", ""),
        technology_area=r.text(data, "technology_area", ""),
        goal=r.text(data, "goal", ""),
        needs=tuple(needs),
        stages=r.texts(data, "stages", ""),
        earliest=r.time(data, "earliest", "", tz),
        latest=r.time(data, "latest", "", tz),
        region=r.text(data, "region", ""),
        hours=r.number(data, "hours", ""),
    )
    if r.errors:
        raise BodyError(r.errors)
    return draft


def parse_draft(raw: bytes | str) -> Draft:
    """:func:`loads` then :func:`draft_from_json`."""
    return draft_from_json(loads(raw))


def parse_target(text: str) -> tuple[str, str] | None:
    """A reassignment target ``"<center_id>/<equipment_id>"`` as the pair; ``""`` -> None
    (the next candidate). ValueError saying what to write otherwise."""
    if not text:
        return None
    center_id, sep, equipment_id = text.partition("/")
    if not sep or not identity.valid_name(center_id) or not identity.valid_name(equipment_id):
        raise ValueError(
            f"{text[:100]!r} is not <center_id>/<equipment_id> (e.g. KR-MR-0001/cycler-1); "
            "leave it empty for the next candidate"
        )
    return center_id, equipment_id
