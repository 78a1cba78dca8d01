"""Record rules both sides enforce.

The agent drops a record that breaks them (reporting file and line); the hub
refuses a batch containing one, so a bug on either side cannot store garbage.
Each function returns a list of problems (empty means valid).
"""

from __future__ import annotations

from iplatform.v1 import enums_pb2 as e
from iplatform.v1 import message_pb2 as m

from proto import identity, limits

# Built once: EnumTypeWrapper.values() makes a new list on every call, and these checks
# run for every change on both sides (the sync hot path, see docs/benchmarks.md).
_STATUSES = frozenset(e.EquipmentStatus.values())
_STAGES = frozenset(e.RdStage.values())
_SERVICES = frozenset(e.ServiceKind.values())
_ENTRY_KINDS = frozenset(e.EntryKind.values())


def _text(problems: list[str], name: str, value: str, required: bool = False) -> None:
    if required and not value.strip():
        problems.append(f"{name} is empty")
    if "\x00" in value:
        problems.append(f"{name} contains a NUL character")
    if len(value) > limits.MAX_TEXT_LENGTH:
        problems.append(f"{name} is longer than {limits.MAX_TEXT_LENGTH} characters")


def _id(problems: list[str], name: str, value: str) -> None:
    if not value:
        problems.append(f"{name} is empty")
    elif len(value) > limits.MAX_ID_LENGTH or not identity.valid_name(value):
        problems.append(
            f"{name} {value[:80]!r} is not a valid id (letters, digits, '.', '_', '-'; "
            f"at most {limits.MAX_ID_LENGTH})"
        )


def equipment(eq: m.Equipment) -> list[str]:
    problems: list[str] = []
    _id(problems, "equipment id", eq.id)
    if not (eq.name_ko.strip() or eq.name_en.strip()):
        problems.append("equipment needs a Korean or English name")
    for name in ("name_ko", "name_en", "category", "manufacturer", "model", "location", "fee_note"):
        _text(problems, name, getattr(eq, name))
    if eq.status == e.EQUIPMENT_STATUS_UNSPECIFIED:
        problems.append("status is unspecified")
    elif eq.status not in _STATUSES:
        problems.append(f"unknown status value {eq.status}")
    if eq.year_acquired and not 1950 <= eq.year_acquired <= 2100:
        problems.append(f"year_acquired {eq.year_acquired} is not a plausible year")
    for name in ("capabilities", "stages", "services", "operating_hours"):
        if len(getattr(eq, name)) > limits.MAX_LIST_ITEMS:
            problems.append(f"{name} has more than {limits.MAX_LIST_ITEMS} items")
    for cap in eq.capabilities:
        _text(problems, "capability", cap, required=True)
    if any(s == e.RD_STAGE_UNSPECIFIED or s not in _STAGES for s in eq.stages):
        problems.append("stages contain an unspecified or unknown stage")
    if any(s == e.SERVICE_KIND_UNSPECIFIED or s not in _SERVICES for s in eq.services):
        problems.append("services contain an unspecified or unknown service kind")
    for h in eq.operating_hours:
        if not 1 <= h.weekday <= 7:
            problems.append(f"operating hours weekday {h.weekday} is not 1..7")
        if not h.start_minute < h.end_minute <= 1440:
            problems.append(
                f"operating hours {h.start_minute}-{h.end_minute} must satisfy start < end <= 1440"
            )
    r = eq.booking_rules
    if r.max_slot_minutes and r.min_slot_minutes > r.max_slot_minutes:
        problems.append("booking rules: min_slot_minutes exceeds max_slot_minutes")
    return problems


def entry(en: m.CalendarEntry) -> list[str]:
    problems: list[str] = []
    _id(problems, "entry id", en.id)
    _id(problems, "equipment_id", en.equipment_id)
    if en.kind == e.ENTRY_KIND_UNSPECIFIED or en.kind not in _ENTRY_KINDS:
        problems.append("kind is unspecified or unknown")
    if not en.HasField("start") or not en.HasField("end"):
        problems.append("start and end are required")
        return problems
    if en.start.nanos or en.end.nanos:
        problems.append("start/end must be whole seconds")
    start, end = en.start.seconds, en.end.seconds
    if not (
        limits.MIN_EPOCH <= start < limits.MAX_EPOCH and limits.MIN_EPOCH <= end <= limits.MAX_EPOCH
    ):
        problems.append("start/end outside the years 2000-2100")
    elif end <= start:
        problems.append("end is not after start (inverted or empty interval)")
    elif end - start > limits.MAX_ENTRY_SECONDS:
        problems.append("interval is longer than 366 days")
    return problems


def change(ch: m.Change) -> list[str]:
    """Problems of one change (without the identity check, which needs the caller)."""
    problems: list[str] = []
    body = ch.WhichOneof("body")
    if ch.seq == 0:
        problems.append("seq must be positive")
    if body is None:
        problems.append("change has no body")
        return problems
    kind = ch.key.kind
    if body == "equipment":
        if kind != e.RECORD_KIND_EQUIPMENT or ch.key.id != ch.equipment.id:
            problems.append("key does not match the equipment record")
        problems += equipment(ch.equipment)
    elif body == "entry":
        if kind != e.RECORD_KIND_ENTRY or ch.key.id != ch.entry.id:
            problems.append("key does not match the calendar entry")
        problems += entry(ch.entry)
    else:
        if kind not in (e.RECORD_KIND_EQUIPMENT, e.RECORD_KIND_ENTRY):
            problems.append("deletion has an unspecified record kind")
        _id(problems, "record id", ch.key.id)
    return problems
