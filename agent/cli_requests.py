"""``iplat-agent requests``: the requests the hub routed to this center, and answering them.

::

    iplat-agent requests list [--state new|answered|withdrawn|all] [--json]
    iplat-agent requests show ITEM_ID [--json]
    iplat-agent requests accept ITEM_ID [--start T --end T] [--by NAME] [--message M]
    iplat-agent requests decline ITEM_ID --reason CODE [--message M] [--by NAME]
    iplat-agent requests propose ITEM_ID --start T --end T [--message M] [--by NAME]

They only read and write the state database, so they work while the agent runs: the
running agent sends a queued answer within about a second and records the hub's verdict,
which ``show`` then displays. Times are ISO 8601; without an offset they are the center's
time zone (agent.toml ``timezone``).
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.config import AgentConfig, load_config
from agent.errors import InboxError, StateError
from agent.inbox.answers import DECLINE_REASON, RawAnswer, parse_answer
from agent.inbox.config import inbox_dir
from agent.inbox.render import how_to_answer, item_json, item_text, list_line, local_iso
from agent.inbox.store import STATES, InboxStore
from agent.state import AgentState
from agent.status import daemon_running

Command = Callable[[argparse.Namespace], int]


def register(sub: Any, default_config: Path) -> None:
    """Add ``requests`` and its actions to the ``iplat-agent`` subcommands ``sub``."""
    top = sub.add_parser(
        "requests",
        help="requests the hub routed to this center: list, show, accept, decline, propose",
        description=(
            "Requests the hub routed to this center. These commands only use the state "
            "database, so they work while the agent runs; the running agent sends an answer "
            "within seconds. Times are ISO 8601; without an offset, the center's time zone."
        ),
    )
    actions = top.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help_text: str, func: Command) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        p.add_argument(
            "--config", type=Path, default=default_config, help="agent.toml (default: ./agent.toml)"
        )
        p.set_defaults(func=func)
        return p

    p = action("list", "list received requests", cmd_list)
    p.add_argument("--state", choices=(*STATES, "all"), default="all", help="default: all")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p = action("show", "show one request, its answers and the hub's verdict", cmd_show)
    p.add_argument("item_id", metavar="ITEM_ID")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    time_help = "ISO 8601, e.g. 2026-12-03T09:00+09:00 (no offset: the center's time zone)"
    for name, help_text in (
        ("accept", "accept (the suggested slot, or --start/--end)"),
        ("decline", "decline with a reason code"),
        ("propose", "propose another time"),
    ):
        p = action(name, help_text, cmd_answer)
        p.add_argument("item_id", metavar="ITEM_ID")
        if name != "decline":
            p.add_argument("--start", default="", help=time_help)
            p.add_argument("--end", default="", help=time_help)
        else:
            p.add_argument(
                "--reason", default="", help=f"one of: {', '.join(DECLINE_REASON.codes)}"
            )
        p.add_argument("--message", default="", help="a note for the company and hub (<= 1000)")
        p.add_argument("--by", default=_login(), help="who answers (default: your login name)")


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


@contextmanager
def _store(config: AgentConfig) -> Iterator[InboxStore]:
    if not config.state_path.exists():
        raise StateError(
            f"no state database at {config.state_path}: the agent has not run yet, so no "
            f"request has arrived; start it with: iplat-agent run --config {config.path}"
        )
    with AgentState(config.state_path, config.center_id) as state:
        yield InboxStore(state)


def _how(config: AgentConfig, item_id: str) -> str:
    folder = config.inbox.kind == "folder"
    answers = str(inbox_dir(config) / "answers") if folder else None
    return how_to_answer(item_id, str(config.path), answers)


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _store(config) as store:
        items = store.items(None if args.state == "all" else args.state)
    if args.json:
        _print_json([item_json(i, config.zone) for i in items])
        return 0
    if not items:
        which = "" if args.state == "all" else f" in state {args.state}"
        print(f"no requests{which}")
        return 0
    for item in items:
        print(list_line(item, config.zone))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _store(config) as store:
        item = store.item(args.item_id)
        if item is None:
            open_ids = store.open_ids()
            hint = f"open requests: {', '.join(open_ids)}" if open_ids else "no request is open"
            raise InboxError(f"no request {args.item_id!r} was received; {hint}")
        history = store.answers_of(item.item_id)
    how = _how(config, item.item_id)
    if args.json:
        _print_json({**item_json(item, config.zone, how), "answers": history})
        return 0
    print(item_text(item, config.zone, how))
    for h in history:
        verdict = h["outcome"] or "not acknowledged yet"
        message = f": {h['message']}" if h["message"] else ""
        print(
            f"answer #{h['seq']:<4} queued {local_iso(int(h['queued_at']), config.zone)}, "
            f"hub {verdict}{message}"
        )
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    raw = RawAnswer(
        item_id=args.item_id,
        answer=args.action,
        start=getattr(args, "start", ""),
        end=getattr(args, "end", ""),
        reason=getattr(args, "reason", ""),
        message=args.message,
        by=args.by,
    )
    answer = parse_answer(raw, config.zone)
    with _store(config) as store:
        queued = store.queue_answer(answer)
        running = daemon_running(store.state)
    if answer.kind == "decline":
        what = f"decline ({answer.reason})"
    elif answer.start is None:
        what = f"{answer.kind} of the suggested slot"
    else:
        start, end = local_iso(answer.start, config.zone), local_iso(answer.end, config.zone)
        what = f"{answer.kind} {start} – {end}"
    print(f"answer #{queued.seq} queued for {answer.item_id}: {what}")
    if running:
        print("the running agent sends it within seconds; the hub's verdict then shows in:")
    else:
        print(
            "the agent is NOT running: it sends the answer once started "
            f"(iplat-agent run --config {config.path}); then see:"
        )
    print(f"  iplat-agent requests show {answer.item_id} --config {config.path}")
    return 0
