"""Where a center's records come from: one small class per kind of source.

Public surface: ``build_sources``, ``Source``, ``Snapshot``, ``Problem`` and the
three implementations. The canonical columns are documented in
``agent.sources.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from agent.sources.base import Problem, Snapshot, Source
from agent.sources.csv import CsvSource
from agent.sources.ical import IcalSource
from agent.sources.sql import SqlSource

if TYPE_CHECKING:
    # Only for annotations: agent.config imports agent.sources.fields.
    from agent.config import AgentConfig

__all__ = [
    "CsvSource",
    "IcalSource",
    "Problem",
    "Snapshot",
    "Source",
    "SqlSource",
    "build_sources",
]


def build_sources(config: AgentConfig, clock: Callable[[], datetime] | None = None) -> list[Source]:
    """One Source per ``[[sources]]`` table, in the config's order.

    ``clock`` (aware UTC ``datetime``) sets "now" for iCalendar expansion; tests pass one.
    """
    zone = config.zone
    out: list[Source] = []
    for sc in config.sources:
        if sc.type == "csv":
            out.append(CsvSource(sc, zone))
        elif sc.type == "ical":
            out.append(IcalSource(sc, zone, clock))
        else:
            out.append(SqlSource(sc, zone))
    return out
