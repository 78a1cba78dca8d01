"""The search query: every filter, the window and the duration, validated on construction.

A :class:`SearchQuery` that exists is valid: ``__post_init__`` checks every field and
normalises codes (``"Bio"`` -> ``"bio"``), so the engine, the CLI, gRPC and the HTTP API
share one set of rules and one set of messages. Instants are epoch seconds (UTC);
:func:`parse_instant` turns ISO 8601 text into them (a time without an offset is read in
the query's time zone, as a portal user in Korea would mean it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.availability.errors import InvalidDuration, InvalidFilter, InvalidWindow, UnknownCode
from proto import codes

DEFAULT_TIME_ZONE = "Asia/Seoul"
MAX_WINDOW_DAYS = 92
"""A quarter: longer windows cost more than they help (plan per quarter)."""
MAX_TEXT_LENGTH = 200
"""Free text and each code or tag; longer input is refused, not truncated."""
MAX_CAPABILITIES = 16
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 10_000
DEFAULT_SLOTS = 3
MAX_SLOTS = 10


def zone(name: str, field_name: str = "tz") -> ZoneInfo:
    """The IANA zone ``name`` or :class:`UnknownCode`."""
    try:
        return ZoneInfo(name)
    # A directory of the zone database ("Asia") or an unreadable path raises OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownCode(
            field_name, f"unknown time zone {name[:80]!r}; use an IANA name such as Asia/Seoul"
        ) from None


def parse_instant(text: str, field_name: str, time_zone: str = DEFAULT_TIME_ZONE) -> int:
    """ISO 8601 (``2026-12-01T09:00``, ``...+09:00``, ``...Z``, or a date) -> epoch seconds.

    Text without an offset is local time in ``time_zone``. Raises :class:`InvalidWindow`.
    """
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidWindow(
            field_name,
            f"{field_name} {raw[:40]!r} is not an ISO 8601 time; write e.g. "
            "2026-12-01T09:00 (local to --tz) or 2026-12-01T00:00:00Z",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(time_zone))
    return math.floor(parsed.timestamp())


def _text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidFilter(
            name, f"{name} is {len(value)} characters long; use at most {MAX_TEXT_LENGTH}"
        )
    if "\x00" in value:
        raise InvalidFilter(name, f"{name} contains a NUL character; remove it")
    return value


def _code(name: str, cmap: codes.CodeMap, value: str | None) -> str | None:
    value = _text(name, value)
    if value is None:
        return None
    try:
        return cmap.code(cmap.value(value))
    except ValueError as exc:
        raise UnknownCode(name, str(exc)) from None


@dataclass(frozen=True)
class SearchQuery:
    """Which equipment, anywhere, is free for ``hours`` within [window_from, window_to)?

    Filters left None (or empty) do not filter. All given filters must match.
    """

    window_from: int
    """Start of the window, epoch seconds (inclusive)."""
    window_to: int
    """End of the window, epoch seconds (exclusive). At most MAX_WINDOW_DAYS after from."""
    hours: float
    """Minimum contiguous free time wanted, in hours (whole minutes: 1.5 is fine)."""
    industry: str | None = None
    """Industry code of the center (``proto.codes.INDUSTRY``), e.g. ``"bio"``."""
    category: str | None = None
    """Equipment category code, matched exactly (e.g. ``"battery-cycler"``)."""
    capabilities: tuple[str, ...] = ()
    """Capability tags; the equipment must have all of them (case-insensitive)."""
    region: str | None = None
    """The center's region, matched exactly (e.g. ``"대전"``)."""
    stage: str | None = None
    """R&D stage code the equipment serves, e.g. ``"validation"``."""
    service: str | None = None
    """Service kind code, e.g. ``"test-analysis"``."""
    text: str | None = None
    """Case-insensitive substring of the Korean or English name."""
    time_zone: str = DEFAULT_TIME_ZONE
    """Zone the answer's times are rendered in (the engine itself works in UTC)."""
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    """Results to skip (paging: pass the answer's ``next_offset``)."""
    slots_per_result: int = DEFAULT_SLOTS
    """Free periods listed per equipment, earliest first."""

    def __post_init__(self) -> None:
        self._check_window()
        self._check_paging()
        zone(self.time_zone)
        caps = tuple(self.capabilities)
        if len(caps) > MAX_CAPABILITIES:
            raise InvalidFilter(
                "capabilities",
                f"{len(caps)} capabilities given; ask for at most {MAX_CAPABILITIES}",
            )
        clean_caps = [_text("capability", c) for c in caps]
        normal: dict[str, object] = {
            "industry": _code("industry", codes.INDUSTRY, self.industry),
            "category": _text("category", self.category),
            # Tags compare case-insensitively (lower(), as SQL does); duplicates would only
            # cost SQL.
            "capabilities": tuple(dict.fromkeys(c.lower() for c in clean_caps if c)),
            "region": _text("region", self.region),
            "stage": _code("stage", codes.STAGE, self.stage),
            "service": _code("service", codes.SERVICE, self.service),
            "text": _text("text", self.text),
        }
        # Frozen: normalised values are set once, here, through object.__setattr__.
        for name, value in normal.items():
            object.__setattr__(self, name, value)

    def _check_window(self) -> None:
        start, end = self.window_from, self.window_to
        if not isinstance(start, int) or not isinstance(end, int):
            raise InvalidWindow("from", "from and to must be epoch seconds (int)")
        if end <= start:
            raise InvalidWindow("to", "the window is empty or inverted: 'to' must be after 'from'")
        if end - start > MAX_WINDOW_DAYS * 86400:
            raise InvalidWindow(
                "to",
                f"the window is {(end - start) / 86400:.1f} days long; search at most "
                f"{MAX_WINDOW_DAYS} days at a time",
            )
        hours = self.hours
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not math.isfinite(hours)
        ):
            raise InvalidDuration("hours", "hours must be a number, e.g. 4 or 1.5")
        if hours <= 0:
            raise InvalidDuration("hours", f"hours must be positive (got {hours})")
        seconds = hours * 3600
        if abs(seconds - round(seconds / 60) * 60) > 1e-6:
            raise InvalidDuration("hours", f"hours {hours} is not a whole number of minutes")
        if round(seconds) > end - start:
            raise InvalidDuration(
                "hours",
                f"{hours} h do not fit in a window of {(end - start) / 3600:g} h; "
                "widen the window or ask for fewer hours",
            )

    def _check_paging(self) -> None:
        for name, value, low, high in (
            ("limit", self.limit, 1, MAX_LIMIT),
            ("offset", self.offset, 0, MAX_OFFSET),
            ("slots_per_result", self.slots_per_result, 1, MAX_SLOTS),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidFilter(
                    name, f"{name} must be an integer in {low}..{high} (got {value!r})"
                )

    @property
    def duration_seconds(self) -> int:
        return round(self.hours * 3600)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)
