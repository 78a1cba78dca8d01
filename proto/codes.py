"""Text codes users and files see, mapped to and from the wire enums.

Sources, CLIs and JSON answers use the lower-case codes of DESIGN.md
(``machinery-robotics``, ``out-of-service``, ``equipment-use``); the wire uses
the prefixed enums. Unknown codes raise ``ValueError`` naming the allowed ones.
"""

from __future__ import annotations

from collections.abc import Mapping

from iplatform.v1 import enums_pb2 as e


class CodeMap:
    """A two-way map between text codes and one enum's values."""

    def __init__(self, what: str, pairs: Mapping[str, int]) -> None:
        self.what = what
        self._to_value = dict(pairs)
        self._to_code = {v: k for k, v in pairs.items()}

    @property
    def codes(self) -> list[str]:
        return list(self._to_value)

    def value(self, code: str) -> int:
        """The enum value of ``code`` (case and ``_``/``-`` insensitive)."""
        key = code.strip().lower().replace("_", "-")
        try:
            return self._to_value[key]
        except KeyError:
            allowed = ", ".join(self._to_value)
            raise ValueError(f"unknown {self.what} {code!r}; use one of: {allowed}") from None

    def code(self, value: int) -> str:
        try:
            return self._to_code[value]
        except KeyError:
            raise ValueError(f"{self.what} value {value} has no code") from None

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().lower().replace("_", "-") in self._to_value


INDUSTRY = CodeMap(
    "industry",
    {
        "machinery-robotics": e.INDUSTRY_MACHINERY_ROBOTICS,
        "bio": e.INDUSTRY_BIO,
        "materials": e.INDUSTRY_MATERIALS,
        "automotive-aerospace": e.INDUSTRY_AUTOMOTIVE_AEROSPACE,
        "electrical-electronics": e.INDUSTRY_ELECTRICAL_ELECTRONICS,
        "shipbuilding-ocean": e.INDUSTRY_SHIPBUILDING_OCEAN,
    },
)

STAGE = CodeMap(
    "R&D stage",
    {
        "planning": e.RD_STAGE_PLANNING,
        "design": e.RD_STAGE_DESIGN,
        "development": e.RD_STAGE_DEVELOPMENT,
        "prototype": e.RD_STAGE_PROTOTYPE,
        "validation": e.RD_STAGE_VALIDATION,
        "commercialization": e.RD_STAGE_COMMERCIALIZATION,
        "mass-production": e.RD_STAGE_MASS_PRODUCTION,
    },
)

SERVICE = CodeMap(
    "service kind",
    {
        "equipment-use": e.SERVICE_KIND_EQUIPMENT_USE,
        "test-analysis": e.SERVICE_KIND_TEST_ANALYSIS,
        "consulting": e.SERVICE_KIND_CONSULTING,
        "training": e.SERVICE_KIND_TRAINING,
    },
)

ROLE = CodeMap(
    "center role",
    {
        "representative": e.CENTER_ROLE_REPRESENTATIVE,
        "operating": e.CENTER_ROLE_OPERATING,
        "participating": e.CENTER_ROLE_PARTICIPATING,
    },
)

STATUS = CodeMap(
    "equipment status",
    {
        "available": e.EQUIPMENT_STATUS_AVAILABLE,
        "limited": e.EQUIPMENT_STATUS_LIMITED,
        "maintenance": e.EQUIPMENT_STATUS_MAINTENANCE,
        "out-of-service": e.EQUIPMENT_STATUS_OUT_OF_SERVICE,
        "retired": e.EQUIPMENT_STATUS_RETIRED,
    },
)

ENTRY_KIND = CodeMap(
    "calendar entry kind",
    {
        "booked": e.ENTRY_KIND_BOOKED,
        "tentative": e.ENTRY_KIND_TENTATIVE,
        "maintenance": e.ENTRY_KIND_MAINTENANCE,
        "closure": e.ENTRY_KIND_CLOSURE,
    },
)

RECORD_KIND = CodeMap(
    "record kind",
    {"equipment": e.RECORD_KIND_EQUIPMENT, "entry": e.RECORD_KIND_ENTRY},
)
