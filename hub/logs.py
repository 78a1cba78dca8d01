"""Structured logs: one JSON object per line on stderr.

Every line carries ``ts``, ``level``, ``logger`` and ``event``; callers add fields with
:func:`event`. Lines about a center carry ``center_id`` so an operator can ``grep`` one
center's history out of the hub's log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_FIELDS = "iplat_fields"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; extra fields come from :func:`event`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(level: str = "info", stream: TextIO | None = None) -> None:
    """Route the ``hub`` logger tree (and gRPC's Python logger) to JSON lines on ``stream``.

    Idempotent: calling it again replaces the handler instead of doubling every line.
    """
    target = stream or sys.stderr
    for name in ("hub", "grpc"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_iplat", False)]:
            logger.removeHandler(old)
        handler_for = logging.StreamHandler(target)
        handler_for.setFormatter(JsonFormatter())
        handler_for._iplat = True  # type: ignore[attr-defined]
        logger.addHandler(handler_for)
        logger.setLevel(level.upper())
        logger.propagate = False


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log event ``name`` with ``fields`` as top-level JSON keys."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={_FIELDS: fields})
