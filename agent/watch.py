"""File-system notifications (watchdog) bridged into asyncio, debounced per target.

Editors and export jobs rarely write a file in place: they write a temp file and rename
it over the original, or truncate and write in several chunks. So the watcher observes
each file's *parent directory*, keeps only events naming a watched file (as source or as
rename destination), and fires the target's callback once the burst has been quiet for
``debounce`` seconds. The poll that follows reads the file as a whole.

watchdog calls handlers on its observer thread; everything crossing into the event loop
goes through ``loop.call_soon_threadsafe``. Our own reads of a file produce only
``opened``/``closed_no_write`` events, which are filtered out so a poll never triggers
another poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from agent import logs

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_SECONDS = 0.075
# A file written without pause (a long export) still fires this often.
MAX_DELAY_SECONDS = 0.5
# Events that can mean "the content changed"; opened/closed_no_write/attrib cannot.
_CONTENT_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
]


def _norm(path: str | bytes | Path) -> str:
    return os.path.realpath(os.fsdecode(path))


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FileWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        for path in (event.src_path, event.dest_path):
            if path:
                self._watcher._notify_threadsafe(_norm(path))


class FileWatcher:
    """Calls a target's callback in the event loop shortly after one of its files changed.

    Use: ``add(name, paths, callback)`` for each target, then ``start()``; ``stop()`` is
    idempotent. Callbacks run in the loop and must not block.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, debounce: float = DEFAULT_DEBOUNCE_SECONDS
    ) -> None:
        self._loop = loop
        self._debounce = debounce
        self._targets: dict[str, list[str]] = {}  # file -> target names
        self._dir_targets: dict[str, list[str]] = {}  # directory -> target names
        self._callbacks: dict[str, Callable[[], None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._first: dict[str, float] = {}  # target -> loop time of its burst's first event
        self._dirs: set[str] = set()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._stopped = False

    def add(self, name: str, paths: Iterable[Path], callback: Callable[[], None]) -> None:
        """Watch ``paths`` for target ``name``: files, or directories (any file inside)."""
        self._callbacks[name] = callback
        for path in paths:
            target = _norm(path)
            if os.path.isdir(target):
                self._dir_targets.setdefault(target, []).append(name)
                self._dirs.add(target)
            else:
                self._targets.setdefault(target, []).append(name)
                self._dirs.add(os.path.dirname(target))

    @property
    def watched(self) -> list[str]:
        return sorted([*self._targets, *self._dir_targets])

    def start(self) -> None:
        if not self._dirs or self._observer is not None:
            return
        observer = Observer()
        handler = _Handler(self)
        for directory in sorted(self._dirs):
            if not os.path.isdir(directory):
                # Nothing to observe yet; the interval poll still covers the source.
                logs.event(log, "watch_dir_missing", logging.WARNING, directory=directory)
                continue
            observer.schedule(handler, directory, recursive=False, event_filter=_CONTENT_EVENTS)
        observer.daemon = True
        observer.start()
        self._observer = observer
        logs.event(log, "watch_started", paths=self.watched)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def _notify_threadsafe(self, path: str) -> None:
        names = [
            *self._targets.get(path, ()),
            *self._dir_targets.get(os.path.dirname(path), ()),
        ]
        if not names or self._stopped:
            return
        try:
            self._loop.call_soon_threadsafe(self._bump, tuple(dict.fromkeys(names)))
        except RuntimeError:
            # The loop closed while the observer thread was still delivering: nothing
            # is left to notify.
            return

    def _bump(self, names: tuple[str, ...]) -> None:
        if self._stopped:
            return
        now = self._loop.time()
        for name in names:
            old = self._timers.pop(name, None)
            if old is not None:
                old.cancel()
            first = self._first.setdefault(name, now)
            delay = min(self._debounce, max(0.0, first + MAX_DELAY_SECONDS - now))
            self._timers[name] = self._loop.call_later(delay, self._fire, name)

    def _fire(self, name: str) -> None:
        self._timers.pop(name, None)
        self._first.pop(name, None)
        callback = self._callbacks.get(name)
        if callback is not None and not self._stopped:
            callback()
