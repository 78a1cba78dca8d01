"""Progress lines for the person running the installer.

Every step prints one ``[k/n] title`` line before it starts, then indented details. Errors
are not printed here: the commands raise them and only ``installer.cli.main`` prints them.
"""

from __future__ import annotations

from typing import TextIO


class Console:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._open_line = False

    def _write(self, text: str) -> None:
        if self._open_line:
            self._stream.write("\n")
            self._open_line = False
        self._stream.write(text + "\n")
        self._stream.flush()

    def step(self, index: int, total: int, title: str) -> None:
        self._write(f"[{index}/{total}] {title}")

    def detail(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self._write(f"      {line}")

    def warn(self, text: str) -> None:
        self._write(f"      WARNING: {text}")

    def line(self, text: str = "") -> None:
        self._write(text)

    def dot(self) -> None:
        """Progress while waiting; the next line starts on a new line."""
        if not self._open_line:
            self._stream.write("      ")
        self._stream.write(".")
        self._stream.flush()
        self._open_line = True
