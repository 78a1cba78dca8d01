"""The folder inbox: one JSON file per item, answers dropped as JSON files.

::

    <path>/items/<item_id>.json        the request, rewritten on every change (withdrawn,
                                       answered, the hub's verdict)
    <path>/answers/<anything>.json     staff put answers here
    <path>/answers/done/               answers queued for the hub
    <path>/answers/rejected/           answers that cannot be sent, each with
                                       <name>.error.txt saying what to fix

Item files are written to a temporary file in the same directory, flushed to disk and
renamed over the old one, so a reader (or a crash) sees the old or the new file, never
half of one; the name is the item_id, so writing an item again replaces it. Answer files
are left alone until they have not changed for ``settle_seconds``: an editor saving in
place must not be read half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.errors import InboxError
from agent.inbox.answers import RawAnswer
from agent.inbox.render import how_to_answer, item_json
from agent.inbox.sinks import Found, Sink
from agent.inbox.store import InboxItem
from agent.pki import fsync_dir, write_atomic

if TYPE_CHECKING:
    from agent.config import AgentConfig

ANSWER_KEYS = ("item_id", "answer", "start", "end", "reason", "message", "by")
MAX_ANSWER_BYTES = 64 * 1024
SETTLE_SECONDS = 1.0
_SAFE_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def safe_item_id(item_id: str) -> bool:
    """Usable as a file name everywhere (the hub's ids are ``RQ-<base32>-<n>-<m>``)."""
    return 0 < len(item_id) <= 120 and not item_id.startswith(".") and set(item_id) <= _SAFE_NAME


# The center's staff read and answer through the folder, usually as members of the
# agent's group (the installer's service account): folders the agent creates are shared
# with that group (setgid, so files inherit it), items are group-readable, and the
# answers folders group-writable. Folders the center made itself keep their modes.
ROOT_MODE = 0o2750
ITEMS_MODE = 0o2750
ANSWERS_MODE = 0o2770
FILE_MODE = 0o640


def _free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``stem.N.suffix`` when taken: never overwrite staff's files."""
    target = directory / name
    n = 1
    while target.exists() or target.with_name(target.name + ".error.txt").exists():
        stem, dot, suffix = name.rpartition(".")
        target = directory / (f"{stem}.{n}.{suffix}" if dot else f"{name}.{n}")
        n += 1
    return target


class FolderSink(Sink):
    kind = "folder"

    def __init__(
        self, config: AgentConfig, path: Path, settle_seconds: float = SETTLE_SECONDS
    ) -> None:
        super().__init__(config)
        self.path = path
        self.items_dir = path / "items"
        self.answers_dir = path / "answers"
        self.done_dir = self.answers_dir / "done"
        self.rejected_dir = self.answers_dir / "rejected"
        self.settle_seconds = settle_seconds

    def _fail(self, what: str, exc: OSError) -> InboxError:
        return InboxError(
            f"inbox folder {self.path}: cannot {what} ({exc.strerror or exc}); check that the "
            "agent's user may write there and the disk is not full, or set [inbox] path in "
            "agent.toml. Requests are kept in the state database and written once it works"
        )

    def prepare(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for d, mode in (
                (self.path, ROOT_MODE),
                (self.items_dir, ITEMS_MODE),
                (self.answers_dir, ANSWERS_MODE),
                (self.done_dir, ANSWERS_MODE),
                (self.rejected_dir, ANSWERS_MODE),
            ):
                try:
                    d.mkdir()
                except FileExistsError:
                    if d.is_dir():
                        continue
                    raise
                os.chmod(d, mode)  # mkdir's mode is cut by the umask
            # Left by a write a crash interrupted (only the agent writes items/).
            for tmp in self.items_dir.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise self._fail("create its folders", exc) from None

    def how(self, item_id: str) -> str:
        return how_to_answer(item_id, str(self.config.path), str(self.answers_dir))

    def item_path(self, item_id: str) -> Path:
        if not safe_item_id(item_id):
            raise InboxError(
                f"item id {item_id[:80]!r} from the hub cannot be a file name; report this to "
                "the hub operator. It is kept in the state database (iplat-agent requests list)"
            )
        return self.items_dir / f"{item_id}.json"

    def put(self, item: InboxItem) -> None:
        data = item_json(item, self.zone, self.how(item.item_id))
        self._write(self.item_path(item.item_id), data)

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        try:
            write_atomic(path, text.encode("utf-8"), mode=FILE_MODE)
        except OSError as exc:
            raise self._fail(f"write {path.name}", exc) from None

    def withdraw_unknown(self, item_id: str, reason: str) -> None:
        path = self.item_path(item_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # nothing shown for it: nothing to take back
        if isinstance(data, dict) and data.get("state") != "withdrawn":
            data.update(state="withdrawn", withdrawn_reason=reason)
            self._write(path, data)

    # -- answers ----------------------------------------------------------------------

    def pick_up(self) -> list[Found]:
        try:
            entries = sorted(self.answers_dir.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._fail("list the answers folder", exc) from None
        now = time.time()
        found = []
        for path in entries:
            if path.name.startswith(".") or path.suffix.lower() != ".json":
                continue
            try:
                if not path.is_file() or now - path.stat().st_mtime < self.settle_seconds:
                    continue
                data = path.read_bytes()[: MAX_ANSWER_BYTES + 1]
            except OSError:
                continue  # moved away meanwhile, or unreadable for now: next poll
            found.append(self._parse(path, data))
        return found

    def _parse(self, path: Path, data: bytes) -> Found:
        origin = f"folder:{path.name}:{hashlib.sha256(data).hexdigest()[:32]}"
        where = f"answer file {path.name}"

        def bad(problem: str) -> Found:
            return Found(origin, where, None, [problem], path)

        if len(data) > MAX_ANSWER_BYTES:
            return bad(f"file: larger than {MAX_ANSWER_BYTES // 1024} KiB; one answer per file")
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return bad("file: not UTF-8 text; save it as UTF-8")
        except json.JSONDecodeError as exc:
            return bad(
                f"file: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "check quotes and commas there"
            )
        if not isinstance(doc, dict):
            return bad('file: must be one JSON object like {"item_id": "...", "answer": "..."}')
        problems = [
            f"{key}: not a known key; use only {', '.join(ANSWER_KEYS)}"
            for key in doc
            if key not in ANSWER_KEYS
        ]
        values: dict[str, str] = {}
        for key in ANSWER_KEYS:
            value = doc.get(key)
            if value is None:
                values[key] = ""
            elif isinstance(value, str):
                values[key] = value
            else:
                problems.append(f'{key}: must be text in quotes, e.g. "{key}": "..."')
                values[key] = ""
        raw = RawAnswer(
            item_id=values["item_id"],
            answer=values["answer"],
            start=values["start"],
            end=values["end"],
            reason=values["reason"],
            message=values["message"],
            by=values["by"],
        )
        return Found(origin, where, None if problems else raw, problems, path)

    def done(self, found: Found, answer_seq: int) -> None:
        path: Path = found.handle
        try:
            os.replace(path, _free_name(self.done_dir, path.name))
        except FileNotFoundError:
            return  # staff took it away; it is queued either way
        except OSError as exc:
            raise self._fail(f"move {path.name} to answers/done", exc) from None
        with contextlib.suppress(OSError):  # the move stands; its sync is best effort
            fsync_dir(self.answers_dir)

    def reject(self, found: Found, problems: list[str]) -> None:
        path: Path = found.handle
        target = _free_name(self.rejected_dir, path.name)
        lines = [
            f"{path.name} was not sent to the hub:",
            *(f"  - {p}" for p in problems),
            "",
            f"Fix it and put it back into {self.answers_dir} (for example: mv "
            f"{target} {self.answers_dir}/), or answer with iplat-agent requests.",
            "",
            'Format: {"item_id": "...", "answer": "accept" | "decline" | "propose", '
            '"start": "2026-12-03T09:00+09:00", "end": "...", "reason": "no-capacity" | '
            '"equipment-unavailable" | "out-of-scope" | "other", "message": "...", '
            '"by": "your name"}',
        ]
        try:
            # The explanation first: a crash before the move only means rejecting it again.
            write_atomic(
                target.with_name(target.name + ".error.txt"),
                ("\n".join(lines) + "\n").encode(),
                mode=FILE_MODE,
            )
            os.replace(path, target)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._fail(f"move {path.name} to answers/rejected", exc) from None
        with contextlib.suppress(OSError):  # the move stands; its sync is best effort
            fsync_dir(self.answers_dir)
