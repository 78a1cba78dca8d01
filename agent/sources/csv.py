"""CSV files: one file of equipment or one file of calendar entries.

The file's first non-empty line is the header. Columns are found by their
canonical names below, or by the header names given in the source's
``[sources.columns]`` table (``name_ko = "장비명"``); header matching ignores
case and surrounding spaces. Any other column (``customer``, ``booked_by``,
``phone``...) is ignored and never copied anywhere. Files are UTF-8 with or
without a byte-order mark unless ``encoding`` says otherwise (``cp949`` for
files saved by Korean Excel).

Equipment columns (``kind = "equipment"``):

==================  ========  ==========================================================
column              required  value
==================  ========  ==========================================================
id                  yes       stable local id: letters, digits, ``.``, ``_``, ``-`` (max 64)
name_ko             yes*      Korean name (*a row needs name_ko or name_en; the column
name_en             yes*      must exist, the cell may be empty)
category            yes       category code, e.g. ``battery-cycler``
status              yes       available, limited, maintenance, out-of-service, retired
                              (or 사용가능/가능, 제한, 점검/유지보수, 고장, 폐기/불용)
capabilities        no        tags separated by ``;`` or ``|``
manufacturer        no        text
model               no        text
year_acquired       no        e.g. 2019 (empty: unknown)
stages              no        R&D stages separated by ``;``: planning, design, development,
                              prototype, validation, commercialization, mass-production
services            no        separated by ``;``: equipment-use, test-analysis, consulting,
                              training
location            no        text
fee_note            no        text
min_slot_minutes    no        whole minutes (empty: no rule)
max_slot_minutes    no        whole minutes (empty: no rule)
lead_time_minutes   no        whole minutes (empty: no rule)
hours               no        weekly template in the center's time zone, e.g.
                              ``mon-fri 09:00-12:00 13:00-18:00; sat 09:00-13:00``
                              (empty: around the clock)
==================  ========  ==========================================================

Calendar columns (``kind = "calendar"``), all required:

============  ==============================================================================
id            stable id of the booking (letters, digits, ``.``, ``_``, ``-``; max 64)
equipment_id  the equipment's id
start, end    ISO 8601: ``2026-03-02T09:00+09:00``, ``2026-03-02T00:00Z``, or without an
              offset (``2026-03-02 09:00``) in the center's ``timezone``; a bare date is
              local midnight. end must be after start and at most 366 days later.
kind          booked, tentative, maintenance, closure (or 예약, 가예약, 점검, 휴무)
============  ==============================================================================

Rows with a problem (bad value, unknown code, inverted interval, text longer
than 500 characters) are reported with their line number (the header is line
1) and left out; the other rows still count. A repeated id keeps its first
valid row and reports every later one. A header without a required column, an
unreadable file or a broken quote structure fails the whole read, and the agent
keeps the last good data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from iplatform.v1 import message_pb2 as m

from agent.errors import SourceError
from agent.sources import fields
from agent.sources.base import IdTracker, Problem, Snapshot, Source

if TYPE_CHECKING:
    # Only for annotations: agent.config imports this package.
    from agent.config import SourceConfig


class CsvSource(Source):
    def __init__(self, config: SourceConfig, timezone: ZoneInfo) -> None:
        super().__init__(config)
        if config.path is None:
            raise ValueError("a csv source needs a path")
        self.path: Path = config.path
        self.tz = timezone
        self._required = (
            fields.EQUIPMENT_REQUIRED if config.kind == "equipment" else fields.CALENDAR_REQUIRED
        )
        self._all = (
            fields.EQUIPMENT_COLUMNS if config.kind == "equipment" else fields.CALENDAR_COLUMNS
        )

    def watch_paths(self) -> list[Path]:
        return [self.path]

    def _where(self) -> str:
        return f"source {self.name!r} ({self.path})"

    def _text(self) -> str:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise SourceError(
                f"{self._where()}: file not found; create it (iplat-agent init writes a template) "
                "or correct 'path' in agent.toml"
            ) from None
        except OSError as exc:
            raise SourceError(
                f"{self._where()}: cannot read the file ({exc.strerror}); check its permissions"
            ) from None
        encoding = self.config.encoding
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{self._where()}: not valid {self.config.encoding} text at byte {exc.start}; save "
                'the file as UTF-8, or set encoding = "cp949" if Korean Excel saved it'
            ) from None

    def _rows(self, content: str) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, cells); blank lines skipped."""
        # strict: an unclosed quote would otherwise swallow the rest of the file into
        # one field, and the rows after it would look deleted.
        reader = csv.reader(
            io.StringIO(content, newline=""), delimiter=self.config.delimiter, strict=True
        )
        try:
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                if any(c.strip() for c in cells):
                    yield start, cells
        except csv.Error as exc:
            raise SourceError(
                f"{self._where()}: broken CSV structure near line {reader.line_num} ({exc}); "
                "look for an unclosed quote"
            ) from None

    def _header(self, header: list[str]) -> dict[str, int]:
        """Canonical column -> index in the row; SourceError if a required one is missing."""
        found = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
        mapping = self.config.columns
        index: dict[str, int] = {}
        for canon in self._all:
            wanted = mapping.get(canon, canon).strip().lower()
            if wanted in found:
                index[canon] = found[wanted]
        missing = [c for c in self._required if c not in index]
        if missing:
            expected = ", ".join(f"{c} (as {mapping[c]!r})" if c in mapping else c for c in missing)
            mapped = ", ".join(f"{k} = {v!r}" for k, v in mapping.items()) or "none"
            raise SourceError(
                f"{self._where()}: header lacks the required column(s) {expected}. Header found: "
                f"{', '.join(h.strip() for h in header)}. Column mapping in agent.toml: {mapped}. "
                "Rename the header or map it under [sources.columns]"
            )
        return index

    def read(self) -> Snapshot:
        snap = Snapshot()
        rows = self._rows(self._text())
        first = next(rows, None)
        if first is None:
            raise SourceError(
                f"{self._where()}: the file is empty, without even a header line; "
                "write the header (iplat-agent init makes a template)"
            )
        index = self._header(first[1])
        width = len(first[1])
        ids = IdTracker()
        file = self.path.name
        for line, cells in rows:

            def problem(message: str, line: int = line) -> None:
                snap.problems.append(Problem(self.name, file, line, message))

            # Trailing empty cells are harmless (some tools pad rows); a filled extra
            # cell means an unquoted delimiter shifted the columns.
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                problem(
                    f"row has {len(cells)} fields but the header has {width}; "
                    "quote values that contain the delimiter"
                )
                continue
            row: Mapping[str, str] = {
                c: cells[i] if i < len(cells) else "" for c, i in index.items()
            }
            record: m.Equipment | m.CalendarEntry
            if self.config.kind == "equipment":
                record, issues = fields.build_equipment(row)
            else:
                record, issues = fields.build_entry(row, self.tz)
            if issues:
                problem("; ".join(issues))
                continue
            first_seen = ids.claim(record.id, f"line {line}")
            if first_seen is not None:
                problem(f"duplicate id {record.id!r} (first at {first_seen}); this row is ignored")
                continue
            if isinstance(record, m.Equipment):
                snap.equipment.append(record)
            else:
                snap.entries.append(record)
        return snap
