"""``[routing]`` in hub.toml: one-stop request routing (DESIGN.md section 7, issue #5).

Kept out of :mod:`hub.config` so that module stays one screenful per concern; it imports
:class:`RoutingSettings` and calls :func:`check` and :func:`render` from here. The stage
guide is loaded and validated at config load, so a hub with a broken guide refuses to
start instead of routing requests by a half-read file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hub.errors import ConfigError
from hub.routing.deadlines import DeadlineRule
from hub.routing.guide import GuideError, StageGuide, load_guide


@dataclass(frozen=True)
class RoutingSettings:
    """``[routing]``: the stage guide, answer deadlines and the routing loops' pace."""

    guide: str = ""
    """Stage guide file (technology area x R&D stage -> equipment); "" = the shipped draft.
    A relative path is read from the data directory; stored resolved."""
    answer_deadline: str = "2 business days"
    """How long a center has to answer a routed item before it goes to the next candidate:
    "N business days" (in the center's time zone), "N hours", "N minutes" or "N seconds"."""
    proposal_deadline: str = "5 business days"
    """How long the company has to take or reject a time a center proposed; then the need
    goes to the next candidate (the center's offer is withdrawn). Same forms."""
    holidays: tuple[str, ...] = ()
    """Dates (ISO, e.g. "2026-12-25") that are not business days."""
    max_candidates: int = 5
    """Candidates kept per need; declines and expiries move down this list."""
    sweep_seconds: float = 5.0
    """How often overdue items are expired and re-routed."""
    delivery_poll_seconds: float = 1.0
    """How often a Sync stream looks for deliveries committed by another process."""

    @property
    def deadline_rule(self) -> DeadlineRule:
        return DeadlineRule.parse(self.answer_deadline)

    @property
    def proposal_rule(self) -> DeadlineRule:
        return DeadlineRule.parse(self.proposal_deadline)

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d) for d in self.holidays)

    def load_guide(self) -> StageGuide:
        """The configured guide (GuideError if it changed on disk since the config loaded)."""
        return load_guide(self.guide or None)


Fail = Callable[[str, str, str], ConfigError]


def raw_section(sub: dict[str, Any]) -> dict[str, Any]:
    """Let ``holidays`` hold TOML dates (``2026-12-25``) as well as quoted ISO text."""
    days = sub.get("holidays")
    if isinstance(days, list):
        # datetime is a date subclass: keep it as it is, for check() to refuse.
        sub = dict(sub, holidays=[_date_text(d) for d in days])
    return sub


def _date_text(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def check(r: RoutingSettings, data_dir: Path, fail: Fail) -> RoutingSettings:
    """Validate ``r``; return it with the guide path resolved against ``data_dir`` and the
    holidays in canonical ISO form."""
    for key, text in (
        ("answer_deadline", r.answer_deadline),
        ("proposal_deadline", r.proposal_deadline),
    ):
        try:
            DeadlineRule.parse(text)
        except ValueError as exc:
            raise fail(
                f"[routing] {key}", str(exc), 'write e.g. "2 business days" or "4 hours"'
            ) from None
    holidays: list[str] = []
    for day in r.holidays:
        try:
            holidays.append(dt.date.fromisoformat(day.strip()).isoformat())
        except ValueError:
            raise fail(
                "[routing] holidays",
                f"{day!r} is not a date",
                'write ISO dates, e.g. ["2026-12-25", "2027-01-01"]',
            ) from None
    for key, value, low, high in (
        ("max_candidates", r.max_candidates, 1, 20),
        ("sweep_seconds", r.sweep_seconds, 0.05, 3600),
        ("delivery_poll_seconds", r.delivery_poll_seconds, 0.05, 3600),
    ):
        if not low <= value <= high:
            raise fail(
                f"[routing] {key}",
                f"{value} is out of range",
                f"use a value between {low} and {high}",
            )
    guide = (
        str((data_dir / Path(r.guide.strip()).expanduser()).resolve()) if r.guide.strip() else ""
    )
    try:
        load_guide(guide or None)
    except GuideError as exc:
        raise fail(
            "[routing] guide",
            f"the stage guide is not usable: {exc}",
            'correct the file, or set guide = "" to use the shipped guide',
        ) from None
    return replace(r, guide=guide, holidays=tuple(holidays))


def render(r: RoutingSettings) -> str:
    """The ``[routing]`` section of the hub.toml ``iplat-hub init`` writes."""
    days = ", ".join(json.dumps(d) for d in r.holidays)
    return f"""\
[routing]
# One-stop requests: a company asks once, the hub routes each need to a center.
# Stage guide (technology area x R&D stage -> equipment); "" = the shipped draft. To correct
# it, copy hub/routing/stage_guide.toml ('iplat-hub guide show'), let the representative
# institutions edit the copy, and put its path here (relative = in the data directory).
guide = {json.dumps(r.guide)}
# Time a center has to answer a routed item before it goes to the next candidate:
# "N business days" (Mon-Fri in the center's time zone, minus holidays; due at 24:00 of
# the Nth business day after routing), "N hours", "N minutes" or "N seconds".
answer_deadline = {json.dumps(r.answer_deadline)}
# Time the company has to take or reject a time a center proposed (same forms); then
# the offer is withdrawn and the need goes to the next candidate.
proposal_deadline = {json.dumps(r.proposal_deadline)}
# Dates that are not business days, e.g. ["2026-12-25", "2027-01-01"].
holidays = [{days}]
# Candidates kept per need (1-20); a decline or expiry moves to the next.
max_candidates = {r.max_candidates}
# How often overdue items are expired and re-routed (seconds).
sweep_seconds = {r.sweep_seconds}
# How often each agent stream looks for deliveries committed by other processes (seconds).
delivery_poll_seconds = {r.delivery_poll_seconds}
"""
