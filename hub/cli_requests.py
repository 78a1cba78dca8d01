"""``iplat-hub requests list|show|preview|submit|respond|cancel|reassign``, ``iplat-hub demand``
and ``iplat-hub guide show|check``: one-stop requests from the operator's shell.

The commands work on the hub's database directly (like ``center`` and ``search``), through
the same :class:`hub.routing.requests.Requests` the server uses, so a request submitted or
reassigned here is validated, planned and routed exactly as one from a portal; a running
hub sends the new deliveries to the centers within ``[routing] delivery_poll_seconds``.
The actor in the request's events is ``operator:<OS user>``.

``submit`` and ``preview`` read the JSON body of ``POST /v1/requests`` (``-``: stdin).
Exit codes: 0 done, 1 not found or not possible in the request's state, 2 invalid input
(every field error printed on its own line with its path).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import cli_common
from hub.availability import QueryError, parse_instant
from hub.availability.query import DEFAULT_TIME_ZONE
from hub.cli_common import UsageError, out
from hub.errors import HubError
from hub.routing import jsonbody, model, render, text
from hub.routing.errors import RequestNotFound, RoutingConflict
from hub.routing.guide import GuideError, load_guide
from hub.routing.model import FieldError, RequestInvalid

if TYPE_CHECKING:
    from hub.routing.requests import Requests
from hub.routing.jsonbody import parse_target


class Refused(HubError):
    """Not found, or not possible in the request's current state (exit 1)."""


class InvalidRequest(HubError):
    """Field errors; the message lists one ``field: message`` per line (exit 2)."""

    exit_code = 2

    def __init__(self, what: str, errors: list[FieldError]) -> None:
        lines = "\n".join(f"  {e.field}: {e.message}" for e in errors)
        super().__init__(f"{what} (nothing was stored):\n{lines}")


def actor() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "operator:cli"


@contextlib.contextmanager
def _requests(args: argparse.Namespace) -> Iterator[Requests]:
    # Imported here: the planner loads the search engine, which the other commands never need.
    from hub.routing.requests import Requests

    cfg = cli_common.load_config(args)
    guide = cfg.routing.load_guide()
    with cli_common.open_store(cfg) as store:
        yield Requests(store, guide, cfg.routing, cfg.sync.stale_after_seconds)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """The one place routing errors become CLI errors."""
    try:
        yield
    except RequestInvalid as exc:
        raise InvalidRequest("the request is invalid", exc.errors) from None
    except (RequestNotFound, RoutingConflict) as exc:
        raise Refused(str(exc)) from None


def _read_draft(path: str) -> model.Draft:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--file: cannot read {path} ({exc.strerror or exc})") from None
    try:
        return jsonbody.parse_draft(raw)
    except jsonbody.BodyError as exc:
        raise InvalidRequest(f"{path} is not a request body", exc.errors) from None


def _print_json(data: Any) -> None:
    out(json.dumps(data, ensure_ascii=False, indent=2))


# -- requests -----------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    if args.state is not None and args.state not in model.REQUEST_STATES:
        raise UsageError(f"--state: use one of {', '.join(model.REQUEST_STATES)}")
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit: use 1..100")
    with _requests(args) as requests:
        views, _ = requests.list(state=args.state, center_id=args.center, limit=args.limit)
    if args.json:
        _print_json([render.request(v) for v in views])
    elif not views:
        out("no requests" + (" match" if args.state or args.center else " yet"))
    else:
        sys.stdout.write(text.list_text(views))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _requests(args) as requests, _refusals():
        view = requests.get(args.id)
    _show(view, args.json)
    return 0


def _show(view: model.RequestView, as_json: bool) -> None:
    if as_json:
        _print_json(render.request(view))
    else:
        sys.stdout.write(text.request_text(view))


def cmd_preview(args: argparse.Namespace) -> int:
    draft = _read_draft(args.file)
    with _requests(args) as requests, _refusals():
        plan = requests.preview(draft)
    if args.json:
        _print_json(render.plan(plan))
    else:
        sys.stdout.write(text.plan_text(plan))
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    draft = _read_draft(args.file)
    with _requests(args) as requests, _refusals():
        view, centers = requests.submit(
            draft, actor=actor(), client_request_id=args.client_request_id or ""
        )
    _show(view, args.json)
    if not args.json and centers:
        out(f"routed to {', '.join(centers)}; a running hub delivers within seconds")
    return 0


def cmd_respond(args: argparse.Namespace) -> int:
    with _requests(args) as requests, _refusals():
        view, _ = requests.respond_to_proposal(args.id, args.item, args.accept, actor=actor())
    out(f"{'accepted' if args.accept else 'rejected'} the proposal of {args.item}")
    _show(view, False)
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with _requests(args) as requests, _refusals():
        view, _ = requests.cancel(args.id, actor=actor(), reason=args.reason or "")
    out(f"request {view.id} is {view.state}")
    return 0


def cmd_reassign(args: argparse.Namespace) -> int:
    try:
        target = parse_target(args.to or "")
    except ValueError as exc:
        raise UsageError(f"--to: {exc}") from None
    with _requests(args) as requests, _refusals():
        view, _ = requests.reassign(
            args.id, args.item, target, actor=actor(), reason=args.reason or ""
        )
    _show(view, False)
    return 0


# -- demand and the guide -------------------------------------------------------------------


def cmd_demand(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = parse_instant(args.since, "since", args.tz)
        except QueryError as exc:
            raise UsageError(f"--{exc.field}: {exc}") from None
    with _requests(args) as requests:
        signals = requests.demand(since=since, category=args.category, center_id=args.center)
    if args.json:
        _print_json([render.signal(s) for s in signals])
    elif not signals:
        out("no demand signals" + (" since then" if since else " yet"))
    else:
        sys.stdout.write(text.demand_text(signals))
    return 0


def cmd_guide_show(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    guide = cfg.routing.load_guide()
    areas = guide.areas
    if args.area:
        area = guide.area(args.area)
        if area is None:
            raise UsageError(
                f"--area: unknown area {args.area!r}; use one of: {', '.join(guide.codes)}"
            )
        areas = (area,)
    if args.json:
        _print_json(render.areas(areas, guide.version))
        return 0
    out(f"stage guide {guide.version} ({guide.source})")
    for a in areas:
        out(f"{a.code}  {a.name_ko} / {a.name_en}  [{a.industry}]")
        if args.area:
            for n in a.needs:
                what = n.category or ", ".join(n.capabilities)
                service = f"  {n.service}" if n.service else ""
                out(f"  {n.stage:<18} {what}  {n.hours:g} h{service}  {n.note}".rstrip())
    return 0


def cmd_guide_check(args: argparse.Namespace) -> int:
    try:
        guide = load_guide(args.file)
    except GuideError as exc:
        raise UsageError(str(exc)) from None
    needs = sum(len(a.needs) for a in guide.areas)
    out(f"{args.file}: ok, version {guide.version}: {len(guide.areas)} areas, {needs} needs")
    out("to use it: set guide in [routing] of hub.toml and restart the hub")
    return 0


def add_parsers(sub: Any) -> None:
    requests = sub.add_parser("requests", help="one-stop requests: list, show, submit, answer")
    rsub = requests.add_subparsers(dest="requests_command", required=True)

    sp = rsub.add_parser("list", help="requests, newest first")
    sp.add_argument("--state", help=", ".join(model.REQUEST_STATES))
    sp.add_argument("--center", help="only requests with an item routed to this center")
    sp.add_argument("--limit", type=int, default=20, help="at most this many (1..100)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_list)

    sp = rsub.add_parser("show", help="needs, items with their centers and states, events")
    sp.add_argument("id", help="request id, e.g. RQ-7K2M9Q4XJD")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_show)

    for name, func, text_ in (
        ("preview", cmd_preview, "the plan a request would get (nothing stored or routed)"),
        ("submit", cmd_submit, "validate, plan, store and route a request"),
    ):
        sp = rsub.add_parser(name, help=text_, description=f"{text_}. {_BODY_HELP}")
        sp.add_argument("--file", required=True, help="REQUEST.json (the POST /v1/requests body)")
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=func)
    sp.add_argument("--client-request-id", help="makes a retried submit return the first one")

    sp = rsub.add_parser("respond", help="answer a time a center proposed")
    sp.add_argument("id", help="request id")
    sp.add_argument("item", help="item id")
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", dest="accept", action="store_true", help="take the time")
    group.add_argument("--reject", dest="accept", action="store_false", help="re-route")
    sp.set_defaults(func=cmd_respond)

    sp = rsub.add_parser("cancel", help="withdraw every open item of a request")
    sp.add_argument("id", help="request id")
    sp.add_argument("--reason", help="recorded in the request's events")
    sp.set_defaults(func=cmd_cancel)

    sp = rsub.add_parser("reassign", help="route an item to another equipment")
    sp.add_argument("id", help="request id")
    sp.add_argument("item", help="item id")
    sp.add_argument("--to", help="CENTER/EQUIPMENT (default: the next candidate)")
    sp.add_argument("--reason", help="recorded in the request's events")
    sp.set_defaults(func=cmd_reassign)
    for p in rsub.choices.values():
        cli_common.add_data_dir(p)

    sp = sub.add_parser("demand", help="demand signals for the equipment-upgrade program")
    sp.add_argument("--since", help="only signals seen since (ISO 8601)")
    sp.add_argument("--tz", default=DEFAULT_TIME_ZONE, help="time zone of --since")
    sp.add_argument("--category", help="equipment category code")
    sp.add_argument("--center", help="center id")
    sp.add_argument("--json", action="store_true")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_demand)

    guide = sub.add_parser("guide", help="the stage guide: show it, check an edited copy")
    gsub = guide.add_subparsers(dest="guide_command", required=True)
    sp = gsub.add_parser("show", help="technology areas (with --area: needs per stage)")
    sp.add_argument("--area", help="one area's code")
    sp.add_argument("--json", action="store_true")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_guide_show)
    sp = gsub.add_parser("check", help="validate a guide file without starting the hub")
    sp.add_argument("file", help="the edited stage guide (TOML)")
    sp.set_defaults(func=cmd_guide_check)


_BODY_HELP = (
    "REQUEST.json is the body of POST /v1/requests (see /openapi.json, schema RequestDraft); "
    "'-' reads it from stdin. Times without an offset are read in its time_zone "
    "(default Asia/Seoul)."
)
