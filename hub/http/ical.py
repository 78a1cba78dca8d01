"""Free/busy as iCalendar: one VFREEBUSY per equipment (RFC 5545 section 3.6.4).

Each equipment's busy time is published as ``FREEBUSY;FBTYPE=...`` periods in UTC, with
the FBTYPE the availability engine decided (BUSY: booked, BUSY-TENTATIVE, and
BUSY-UNAVAILABLE: closures, maintenance, outside operating hours, equipment not usable).
Nothing else about a booking exists at the hub, so nothing else can leak: there is no
SUMMARY, no attendee, no customer. ``ORGANIZER`` names the equipment (a URN and its name),
as RFC 5546 asks of published free/busy; a ``COMMENT`` warns when the center's data is
stale.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, vCalAddress
from icalendar import FreeBusy as VFreeBusy

from hub.availability import EquipmentFreeBusy, FreeBusy
from proto import timeconv

MEDIA_TYPE = "text/calendar"
PRODID = "-//iplatform-sync//hub free-busy//EN"


def _at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _component(fb: FreeBusy, eq: EquipmentFreeBusy, now: int) -> VFreeBusy:
    c = fb.center
    comp = VFreeBusy()
    comp.add("uid", f"freebusy-{c.id}-{eq.equipment_id}@iplatform")
    comp.add("dtstamp", _at(now))
    comp.add("dtstart", _at(fb.window_from))
    comp.add("dtend", _at(fb.window_to))
    organizer = vCalAddress(f"urn:iplatform:equipment:{c.id}:{eq.equipment_id}")
    organizer.params["cn"] = " / ".join(n for n in (eq.name_ko, eq.name_en) if n) or eq.equipment_id
    comp.add("organizer", organizer)
    if c.stale:
        seen = timeconv.iso(c.last_seen) or "never"
        comp.add(
            "comment",
            f"The hub's copy of {c.id} is stale (last heard from {seen}): "
            "this busy time may be out of date.",
        )
    for period in eq.busy:
        comp.add(
            "freebusy",
            (_at(period.start), _at(period.end)),
            parameters={"FBTYPE": str(period.kind)},
        )
    return comp


def render(fb: FreeBusy, now: int) -> bytes:
    """The VCALENDAR of ``fb`` (one VFREEBUSY per equipment)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("calscale", "GREGORIAN")
    for eq in fb.equipment:
        cal.add_component(_component(fb, eq, now))
    data: bytes = cal.to_ical()
    return data
