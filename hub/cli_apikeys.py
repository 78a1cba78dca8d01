"""``iplat-hub apikey create|list|revoke``: API keys of the HTTP/JSON API.

A key is printed once, by ``create``; the hub keeps only a hash of its secret. ``revoke``
takes effect at once, in every hub process sharing the database: a revoked key gets 403
on its next request, and open feed streams end at their next keepalive.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from hub import cli_common
from hub.cli_common import UsageError, out
from hub.http import apikeys
from hub.store import ApiKeyExists, ApiKeyInfo
from hub.store.apikeys import ROLES
from proto import identity, timeconv


def _check_name(name: str) -> str:
    if not identity.valid_name(name):
        raise UsageError(
            f"invalid API key name {name[:80]!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64), e.g. iplatform-web"
        )
    return name


def cmd_create(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    name = _check_name(args.name)
    key, info = apikeys.new_key(name, args.role, int(time.time()))
    with cli_common.open_store(cfg) as store:
        try:
            store.create_api_key(info)
        except ApiKeyExists:
            raise UsageError(
                f"an API key named {name!r} exists (names of revoked keys stay taken); "
                f"choose another name, e.g. {name}-2"
            ) from None
    if args.json:
        out(json.dumps({"name": name, "role": info.role, "key": key, "id": info.id}, indent=2))
        return 0
    out(f"API key {name!r} ({info.role}):")
    out(f"  {key}")
    out("it is shown only now: store it in the portal's secret store")
    out("send it as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>'); the API's")
    out(f"description is at http://{cfg.http.listen or 'HOST:PORT'}/openapi.json")
    return 0


def _row(info: ApiKeyInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "role": info.role,
        "id": info.id,
        "created_at": timeconv.iso(info.created_at),
        "revoked_at": timeconv.iso(info.revoked_at),
    }


def cmd_list(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    with cli_common.open_store(cfg) as store:
        keys = store.list_api_keys()
    if args.json:
        out(json.dumps([_row(k) for k in keys], indent=2))
        return 0
    if not keys:
        out("no API keys: create one with 'iplat-hub apikey create NAME'")
        return 0
    from hub.view_render import table

    rows = [
        [k.name, k.role, k.id, timeconv.iso(k.created_at) or "", timeconv.iso(k.revoked_at) or "-"]
        for k in keys
    ]
    for line in table(["NAME", "ROLE", "ID", "CREATED", "REVOKED"], rows):
        out(line)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    name = _check_name(args.name)
    with cli_common.open_store(cfg) as store:
        info = store.revoke_api_key(name, int(time.time()))
    if info is None:
        raise UsageError(f"no API key named {name!r}; 'iplat-hub apikey list' shows them")
    out(f"API key {name!r} revoked at {timeconv.iso(info.revoked_at)}; it is refused from now on")
    return 0


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser("apikey", help="API keys of the HTTP/JSON API (portals)")
    asub = parser.add_subparsers(dest="apikey_command", required=True)
    sp = asub.add_parser(
        "create",
        help="make an API key and print it once",
        description="Make an API key for a portal or operator. The key is printed once; "
        "the hub stores only a hash of it.",
    )
    sp.add_argument("name", help="who the key is for, e.g. iplatform-web")
    sp.add_argument(
        "--role",
        choices=ROLES,
        default="portal",
        help="portal (default): read the national view and feed; operator: the same, and "
        "(later) administration",
    )
    sp.add_argument("--json", action="store_true", help="print name, role, key and id as JSON")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_create)

    sp = asub.add_parser("list", help="list API keys (never their secrets)")
    sp.add_argument("--json", action="store_true")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_list)

    sp = asub.add_parser(
        "revoke",
        help="revoke an API key (answered 403 from now on)",
        description="Revoke the key with this name in every hub sharing the database.",
    )
    sp.add_argument("name")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_revoke)
