"""The stage guide: which equipment a technology area needs at each R&D stage.

A company that only names its goal ("a secondary-battery cell") and the stages it is at
gets its needs proposed from this guide (DESIGN.md section 7). The guide is data, not
code: each industry's representative institution corrects it, and operators point
``[routing] guide`` in hub.toml to their copy. A wrong guide would route real requests to
the wrong equipment, so it is validated completely at load and the hub refuses to start
with one: every error names the file, the area and the field, and says what to fix.
Unknown keys are errors, so a misspelt key cannot silently drop a need.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proto import codes

DEFAULT_GUIDE_PATH = Path(__file__).with_name("stage_guide.toml")
"""The guide shipped with the hub (a draft for the representative institutions)."""

MAX_HOURS = 2000.0
MAX_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 500
MAX_CODE_LENGTH = 64
MAX_CAPABILITIES = 16

_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_TOP_KEYS = ("version", "areas")
_AREA_KEYS = ("code", "name_ko", "name_en", "industry", "needs")
_NEED_KEYS = ("stage", "category", "capabilities", "service", "hours", "note")


class GuideError(ValueError):
    """The guide file is unreadable or breaks a rule; the message says where and what to do."""


@dataclass(frozen=True)
class GuideNeed:
    """What a company in an area typically needs at one stage."""

    stage: str
    category: str | None
    capabilities: tuple[str, ...]
    service: str | None
    hours: float
    note: str


@dataclass(frozen=True)
class Area:
    """A technology area; its industry's representative institution coordinates requests."""

    code: str
    name_ko: str
    name_en: str
    industry: str
    needs: tuple[GuideNeed, ...]

    def needs_for(self, stage: str) -> tuple[GuideNeed, ...]:
        """The needs of ``stage`` (any spelling :mod:`proto.codes` accepts), in file order."""
        key = _canonical_stage(stage)
        return tuple(n for n in self.needs if n.stage == key)

    @property
    def stages(self) -> tuple[str, ...]:
        """Stages the guide has needs for, in R&D order."""
        have = {n.stage for n in self.needs}
        return tuple(s for s in codes.STAGE.codes if s in have)


@dataclass(frozen=True)
class StageGuide:
    version: str
    areas: tuple[Area, ...]
    source: str
    """Path of the file the guide was read from."""

    def area(self, code: str) -> Area | None:
        key = code.strip().lower()
        return next((a for a in self.areas if a.code == key), None)

    def for_industry(self, industry: str | None) -> tuple[Area, ...]:
        """The areas of ``industry``; every area when it is None or empty."""
        if not industry:
            return self.areas
        key = industry.strip().lower().replace("_", "-")
        return tuple(a for a in self.areas if a.industry == key)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.areas)


def _canonical_stage(stage: str) -> str:
    return stage.strip().lower().replace("_", "-")


class _Reader:
    """Turns the parsed TOML into the dataclasses, failing with located messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str, fix: str) -> GuideError:
        return GuideError(f"{self.path}: {where}: {problem}; {fix}")

    def keys(self, where: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(
                    f"{where}{key}", "unknown key", f"remove it or use one of: {', '.join(allowed)}"
                )

    def text(self, where: str, value: Any, limit: int, required: bool = True) -> str:
        if value is None:
            if required:
                raise self.fail(where, "is missing", "write it (as a quoted string)")
            return ""
        if not isinstance(value, str):
            raise self.fail(where, f"{value!r} is not text", 'write a quoted string, e.g. "..."')
        text = value.strip()
        if required and not text:
            raise self.fail(where, "is missing or empty", "write a value")
        if len(text) > limit or "\x00" in text:
            raise self.fail(
                where, "is too long or holds a NUL", f"write at most {limit} plain characters"
            )
        return text

    def code(self, where: str, value: Any) -> str:
        text = self.text(where, value, MAX_CODE_LENGTH)
        if not _CODE.match(text):
            raise self.fail(
                where,
                f"{text!r} is not a code",
                "use lower-case letters a-z, digits and single '-' between them, "
                'e.g. "battery-cycler"',
            )
        return text

    def enum(self, where: str, value: Any, cmap: codes.CodeMap) -> str:
        text = self.text(where, value, MAX_CODE_LENGTH)
        try:
            return cmap.code(cmap.value(text))
        except ValueError as exc:
            problem = str(exc).split(";")[0]
            raise self.fail(where, problem, f"use one of: {', '.join(cmap.codes)}") from None

    def read(self, raw: dict[str, Any]) -> StageGuide:
        self.keys("", raw, _TOP_KEYS)
        version = self.text("version", raw.get("version"), MAX_NAME_LENGTH)
        areas_raw = raw.get("areas")
        if not isinstance(areas_raw, list) or not areas_raw:
            raise self.fail("areas", "no areas", "add [[areas]] tables (see the shipped guide)")
        areas: list[Area] = []
        seen: set[str] = set()
        for i, table in enumerate(areas_raw):
            area = self.area(i, table)
            if area.code in seen:
                raise self.fail(
                    f"area {area.code!r}: code",
                    "is used by an earlier area",
                    "give each area its own code, or merge the two areas",
                )
            seen.add(area.code)
            areas.append(area)
        for industry in codes.INDUSTRY.codes:
            if not any(a.industry == industry for a in areas):
                raise self.fail(
                    "areas",
                    f"industry {industry!r} has no area",
                    f"keep at least one [[areas]] with industry = {industry!r}: every industry's "
                    "companies must be able to ask",
                )
        return StageGuide(version=version, areas=tuple(areas), source=str(self.path))

    def area(self, index: int, table: Any) -> Area:
        if not isinstance(table, dict):
            raise self.fail(f"areas[{index}]", "is not a table", "write it as [[areas]]")
        raw_code = table.get("code")
        named = raw_code.strip() if isinstance(raw_code, str) else ""
        where = f"area {named!r}: " if named else f"areas[{index}]: "
        self.keys(where, table, _AREA_KEYS)
        code = self.code(f"{where}code", raw_code)
        name_ko = self.text(f"{where}name_ko", table.get("name_ko"), MAX_NAME_LENGTH)
        name_en = self.text(f"{where}name_en", table.get("name_en"), MAX_NAME_LENGTH)
        industry = self.enum(f"{where}industry", table.get("industry"), codes.INDUSTRY)
        needs_raw = table.get("needs")
        if not isinstance(needs_raw, list) or not needs_raw:
            raise self.fail(
                f"{where}needs", "no needs", "add [[areas.needs]] tables under the area"
            )
        needs = tuple(self.need(f"{where}needs[{j}].", t) for j, t in enumerate(needs_raw))
        return Area(code, name_ko, name_en, industry, needs)

    def need(self, where: str, table: Any) -> GuideNeed:
        if not isinstance(table, dict):
            raise self.fail(where.rstrip("."), "is not a table", "write it as [[areas.needs]]")
        self.keys(where, table, _NEED_KEYS)
        stage = self.enum(f"{where}stage", table.get("stage"), codes.STAGE)
        category = None
        if table.get("category") is not None:
            category = self.code(f"{where}category", table["category"])
        caps = self.capabilities(f"{where}capabilities", table.get("capabilities", []))
        if category is None and not caps:
            raise self.fail(
                f"{where}category",
                "neither category nor capabilities is given",
                "write the equipment category code, capability tags, or both",
            )
        service = None
        if table.get("service") is not None:
            service = self.enum(f"{where}service", table["service"], codes.SERVICE)
        hours = self.hours(f"{where}hours", table.get("hours"))
        note = self.text(f"{where}note", table.get("note"), MAX_NOTE_LENGTH, required=False)
        return GuideNeed(stage, category, caps, service, hours, note)

    def capabilities(self, where: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(where, f"{value!r} is not a list", 'write e.g. ["eds", "1nm"]')
        if len(value) > MAX_CAPABILITIES:
            raise self.fail(where, f"{len(value)} tags", f"keep at most {MAX_CAPABILITIES}")
        tags = [self.text(f"{where}[{k}]", v, MAX_CODE_LENGTH).lower() for k, v in enumerate(value)]
        # Equipment must have all the tags: a repeated one would only look like a second need.
        return tuple(dict.fromkeys(tags))

    def hours(self, where: str, value: Any) -> float:
        if value is None:
            raise self.fail(where, "is missing", "write the typical hours, e.g. 8 or 1.5")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(where, f"{value!r} is not a number", "write hours, e.g. 8 or 1.5")
        if not 0 < value <= MAX_HOURS:
            raise self.fail(
                where, f"{value} is out of range", f"write more than 0, at most {MAX_HOURS:g}"
            )
        minutes = value * 60
        if abs(minutes - round(minutes)) > 1e-6:
            raise self.fail(where, f"{value} is not whole minutes", "round it, e.g. 1.5 or 0.25")
        return float(value)


def load_guide(path: str | Path | None = None) -> StageGuide:
    """Read and validate a guide file; None reads the shipped :data:`DEFAULT_GUIDE_PATH`."""
    file = Path(path) if path is not None else DEFAULT_GUIDE_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuideError(
            f'{file}: not found; check [routing] guide in hub.toml, or set it to "" for the '
            "shipped guide"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideError(
            f"{file}: cannot read it ({exc}); check its permissions and encoding (UTF-8)"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GuideError(f"{file}: not valid TOML ({exc}); fix the syntax at that line") from None
    return _Reader(file).read(raw)
