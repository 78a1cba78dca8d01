"""Structured agent logs: one JSON object per line on stderr, ``center_id`` on every line.

Every line carries ``ts``, ``level``, ``logger``, ``event`` and ``center_id``; callers add
fields with :func:`event`. IT staff at a center (and the hub operators they forward logs
to) can ``grep`` or ``jq`` one event type out of a week of logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_FIELDS = "iplat_fields"
_MARK = "_iplat_agent"
# Loggers whose records end up in the agent's JSON stream.
_ROOTS = ("agent", "grpc", "apscheduler", "watchdog")


class JsonLineFormatter(logging.Formatter):
    """One JSON line per record; ``center_id`` is stamped on every line."""

    def __init__(self, center_id: str) -> None:
        super().__init__()
        self.center_id = center_id

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "center_id": self.center_id,
            "event": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(center_id: str, level: str = "info", stream: TextIO | None = None) -> None:
    """Send the agent's loggers (and the libraries it drives) to JSON lines on ``stream``.

    Idempotent: a second call replaces the handler instead of doubling every line.
    Library loggers are held at WARNING so their chatter does not drown the agent's events.
    """
    target = stream if stream is not None else sys.stderr
    for name in _ROOTS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(old)
        handler = logging.StreamHandler(target)
        handler.setFormatter(JsonLineFormatter(center_id))
        setattr(handler, _MARK, True)
        logger.addHandler(handler)
        logger.setLevel(level.upper() if name == "agent" else max(logging.WARNING, _level(level)))
        logger.propagate = False


def _level(level: str) -> int:
    value = logging.getLevelName(level.upper())
    return value if isinstance(value, int) else logging.INFO


def event(
    logger: logging.Logger,
    name: str,
    level: int = logging.INFO,
    *,
    exc_info: bool = False,
    **fields: Any,
) -> None:
    """Log event ``name`` with ``fields`` as top-level JSON keys (and the traceback if asked)."""
    if logger.isEnabledFor(level):
        logger.log(level, name, exc_info=exc_info, extra={_FIELDS: fields})
