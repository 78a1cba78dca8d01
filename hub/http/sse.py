"""Server-Sent Events framing (the WHATWG HTML "text/event-stream" format).

Each event is ``id:`` (the feed token, which a browser's EventSource sends back as the
``Last-Event-ID`` header when it reconnects), ``event:`` and one ``data:`` line of JSON,
then a blank line. Comment lines (``:``) keep idle connections open through proxies.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MEDIA_TYPE = "text/event-stream"
RETRY_MS = 2000
"""How long an EventSource waits before reconnecting (sent once, first)."""


def headers() -> dict[str, str]:
    return {
        "Content-Type": f"{MEDIA_TYPE}; charset=utf-8",
        "Cache-Control": "no-cache",
        # nginx buffers responses by default, which would hold events back.
        "X-Accel-Buffering": "no",
    }


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One event; ``data`` becomes a single line of JSON (JSON escapes newlines)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


class SseWriter:
    """Writes events to a prepared stream response; raises ConnectionResetError when the
    client went away."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response

    async def start(self) -> None:
        await self.response.write(f"retry: {RETRY_MS}\n\n".encode())

    async def send(self, chunk: bytes) -> None:
        await self.response.write(chunk)

    async def comment(self, text: str) -> None:
        await self.response.write(f": {text}\n\n".encode())
