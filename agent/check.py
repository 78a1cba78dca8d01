"""``iplat-agent check``: read every source once and say what the hub would get.

Nothing is sent and no network is used. A source that cannot be read at all
makes the report not ok (the CLI exits non-zero); bad records and cross-source
oddities are warnings, because the agent syncs the good records anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agent.config import AgentConfig
from agent.errors import SourceError
from agent.sources import Problem, build_sources

DEFAULT_MAX_PROBLEMS = 20


@dataclass(frozen=True)
class SourceReport:
    name: str
    """The source's configured name."""
    type: str
    """csv, ical or sql."""
    equipment: int = 0
    """Valid equipment records read."""
    entries: int = 0
    """Valid calendar entries read."""
    problems: tuple[Problem, ...] = ()
    """Records left out, in file order."""
    error: str | None = None
    """Why the source could not be read at all (None when it was read)."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class CheckReport:
    center_id: str
    """The center the config is for."""
    sources: tuple[SourceReport, ...]
    """One report per source, in config order."""
    duplicate_equipment: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Equipment id -> the sources that all provide it."""
    duplicate_entries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Calendar entry id -> the sources that all provide it."""
    unknown_equipment: dict[str, int] = field(default_factory=dict)
    """Equipment id named by calendar entries but by no source -> number of entries."""

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources)

    @property
    def problem_count(self) -> int:
        return sum(len(s.problems) for s in self.sources)


def run_check(config: AgentConfig, clock: Callable[[], datetime] | None = None) -> CheckReport:
    """Read each source once and cross-check what they return."""
    reports: list[SourceReport] = []
    equipment_by: dict[str, list[str]] = {}
    entries_by: dict[str, list[str]] = {}
    refs: Counter[str] = Counter()
    for source in build_sources(config, clock):
        try:
            snap = source.read()
        except SourceError as exc:
            reports.append(SourceReport(source.name, source.config.type, error=str(exc)))
            continue
        finally:
            source.close()
        reports.append(
            SourceReport(
                source.name,
                source.config.type,
                equipment=len(snap.equipment),
                entries=len(snap.entries),
                problems=tuple(snap.problems),
            )
        )
        for eq in snap.equipment:
            equipment_by.setdefault(eq.id, []).append(source.name)
        for en in snap.entries:
            entries_by.setdefault(en.id, []).append(source.name)
            refs[en.equipment_id] += 1
    all_read = all(r.ok for r in reports)
    return CheckReport(
        center_id=config.center_id,
        sources=tuple(reports),
        duplicate_equipment={k: tuple(v) for k, v in equipment_by.items() if len(v) > 1},
        duplicate_entries={k: tuple(v) for k, v in entries_by.items() if len(v) > 1},
        # With a source unread, a "missing" equipment may simply be in it: say nothing.
        unknown_equipment=(
            {k: n for k, n in sorted(refs.items()) if k not in equipment_by} if all_read else {}
        ),
    )


def _listing(items: dict[str, tuple[str, ...]], limit: int) -> list[str]:
    lines = [f"    {k}: {', '.join(v)}" for k, v in list(items.items())[:limit]]
    if len(items) > limit:
        lines.append(f"    ... and {len(items) - limit} more")
    return lines


def format_check(report: CheckReport, max_problems: int = DEFAULT_MAX_PROBLEMS) -> str:
    """The report as text for a terminal; at most ``max_problems`` problems per source."""
    out = [f"Center {report.center_id}: {len(report.sources)} source(s)"]
    for s in report.sources:
        if s.error is not None:
            out.append(f"  [FAILED] {s.name} ({s.type}): {s.error}")
            continue
        mark = "ok" if not s.problems else "warn"
        out.append(
            f"  [{mark}] {s.name} ({s.type}): {s.equipment} equipment, {s.entries} calendar "
            f"entries, {len(s.problems)} problem(s)"
        )
        out += [f"    {p}" for p in s.problems[:max_problems]]
        if len(s.problems) > max_problems:
            out.append(f"    ... and {len(s.problems) - max_problems} more problem(s)")
    if report.duplicate_equipment:
        out.append(
            "  warning: equipment ids provided by more than one source (only one can be right; "
            "remove them from all but one source):"
        )
        out += _listing(report.duplicate_equipment, max_problems)
    if report.duplicate_entries:
        out.append("  warning: calendar entry ids provided by more than one source:")
        out += _listing(report.duplicate_entries, max_problems)
    if report.unknown_equipment:
        total = sum(report.unknown_equipment.values())
        out.append(
            f"  warning: {total} calendar entries name equipment that no source provides "
            "(add the equipment or correct equipment_id):"
        )
        shown = list(report.unknown_equipment.items())
        out += [f"    {k}: {n} entries" for k, n in shown[:max_problems]]
        if len(shown) > max_problems:
            out.append(f"    ... and {len(shown) - max_problems} more")
    if report.ok:
        out.append(
            f"OK: every source was read ({report.problem_count} record(s) left out with problems)."
        )
    else:
        failed = ", ".join(s.name for s in report.sources if not s.ok)
        out.append(f"NOT OK: could not read {failed}; fix the errors above and run check again.")
    return "\n".join(out)
