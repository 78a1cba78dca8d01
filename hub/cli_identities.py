"""``iplat-hub client revoke|list`` and ``iplat-hub token list|void``: seeing and withdrawing
portal/operator identities and enrollment tokens.

Tokens are listed by id, never by secret (the hub stores only a hash of it). A revoked
client's next call to a serving hub is refused within ``[server] reload_poll_seconds``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from hub import cli_common, token_format, view_render
from hub.cli_common import UsageError, out
from hub.store import IssuedCertificate, TokenInfo, TokenRejected, UnknownClient
from hub.store import tokens as token_store
from proto import identity, timeconv

ROLES = ("portal", "operator")


def _token_row(t: TokenInfo, now: int) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind,
        "name": t.name,
        "created_at": timeconv.iso(t.created_at),
        "expires_at": timeconv.iso(t.expires_at),
        "state": token_store.state(t, now),
        "used_at": timeconv.iso(t.used_at),
        "cert_serial": t.cert_serial,
        "voided_at": timeconv.iso(t.voided_at),
    }


def _cert_row(c: IssuedCertificate, now: int) -> dict[str, Any]:
    state = "revoked" if c.revoked_at is not None else "valid" if c.not_after > now else "expired"
    return {
        "serial": c.serial,
        "issued_at": timeconv.iso(c.issued_at),
        "not_after": timeconv.iso(c.not_after),
        "state": state,
        "revoked_at": timeconv.iso(c.revoked_at),
    }


def cmd_token_list(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        found = store.list_tokens("center", args.center) if args.center else store.list_tokens()
    rows = [_token_row(t, now) for t in found]
    if not args.all:
        rows = [r for r in rows if r["state"] == token_store.USABLE]
    if args.json:
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        out("no tokens" if args.all else "no usable tokens (--all shows used, expired, voided)")
        return 0
    header = ["id", "kind", "name", "created", "expires", "state"]
    keys = ("id", "kind", "name", "created_at", "expires_at", "state")
    out("\n".join(view_render.table(header, [[str(r[k]) for k in keys] for r in rows])))
    return 0


def cmd_token_void(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    # The id as 'token list' shows it, or the whole token (a leaked one, pasted as found).
    token_id = args.token_id.removeprefix(token_format.PREFIX).split(".", 1)[0]
    with cli_common.open_store(cfg) as store:
        try:
            token = store.void_token(token_id, int(time.time()), args.reason or "")
        except TokenRejected as exc:
            raise UsageError(_void_refusal(token_id, exc, str(cfg.data_dir))) from None
    out(f"token {token.id} ({token.kind} {token.name}) voided: Enroll refuses it from now on")
    return 0


def _void_refusal(token_id: str, exc: TokenRejected, data_dir: str) -> str:
    t = exc.token
    if exc.reason != TokenRejected.USED or t is None:
        return (
            f"no token with id {token_id!r}; see 'iplat-hub token list --all --data-dir {data_dir}'"
        )
    cut_off = (
        f"iplat-hub center evict {t.name}"
        if t.kind == "center"
        else f"iplat-hub client revoke {t.name} --role {t.kind}"
    )
    return (
        f"token {token_id} was already used at {timeconv.iso(t.used_at)} by certificate serial "
        f"{t.cert_serial} ({t.kind} {t.name}); voiding it changes nothing. To cut that "
        f"certificate off: {cut_off} --data-dir {data_dir}"
    )


def cmd_client_revoke(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    try:
        identity.make(cfg.trust_domain, args.role, args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with cli_common.open_store(cfg) as store:
        try:
            done = store.revoke_client(args.role, args.name, int(time.time()), args.reason or "")
        except UnknownClient as exc:
            raise UnknownClient(
                f"{exc}; see 'iplat-hub client list --data-dir {cfg.data_dir}'"
            ) from None
    poll = cfg.server.reload_poll_seconds
    out(
        f"{args.role} {args.name} revoked: {done.certificates_revoked} certificate(s) revoked, "
        f"{done.tokens_voided} unused token(s) voided"
    )
    out(f"a running hub refuses its calls within {poll:g} s")
    out(
        f"to let it back in: iplat-hub client add {args.name} --role {args.role} --token "
        f"--data-dir {cfg.data_dir}"
    )
    return 0


def cmd_client_list(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    now = int(time.time())
    clients: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(kind: str, name: str) -> dict[str, Any]:
        uri = identity.make(cfg.trust_domain, kind, name).uri
        new = {"role": kind, "name": name, "identity": uri, "certificates": [], "tokens": []}
        return clients.setdefault((kind, name), new)

    with cli_common.open_store(cfg) as store:
        for cert in store.list_client_certificates():
            entry(cert.kind, cert.name)["certificates"].append(_cert_row(cert, now))
        for role in ROLES:
            for t in store.list_tokens(role):
                if token_store.state(t, now) == token_store.USABLE:
                    entry(t.kind, t.name)["tokens"].append(_token_row(t, now))
    rows = [clients[k] for k in sorted(clients)]
    if args.json:
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        out("no portals or operators yet: iplat-hub client add NAME --role portal|operator ...")
        return 0
    table = [
        [r["role"], r["name"], "certificate", c["serial"], c["not_after"], c["state"]]
        for r in rows
        for c in r["certificates"]
    ] + [
        [r["role"], r["name"], "token", t["id"], t["expires_at"], t["state"]]
        for r in rows
        for t in r["tokens"]
    ]
    table.sort(key=lambda row: (row[0], row[1]))
    out("\n".join(view_render.table(["role", "name", "what", "id", "expires", "state"], table)))
    return 0


def add_token_parsers(tsub: Any) -> None:
    sp = tsub.add_parser(
        "list",
        help="enrollment tokens with their state (usable by default; never their secrets)",
        description="States: usable, used, expired, voided. Only token ids are shown: the hub "
        "keeps just a hash of each secret.",
    )
    sp.add_argument("--center", help="only this center's tokens")
    sp.add_argument("--all", action="store_true", help="also used, expired and voided tokens")
    sp.add_argument("--json", action="store_true", help="print JSON")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_token_list)

    sp = tsub.add_parser(
        "void",
        help="make one unused token worthless (a leaked token, say)",
        description="Void one enrollment token by its id (as 'iplat-hub token list' shows "
        "it) or by the whole token. A used token cannot be voided: evict or revoke the "
        "certificate it bought instead.",
    )
    sp.add_argument("token_id", help="the token's id as 'token list' shows it, or the whole token")
    sp.add_argument("--reason", help="recorded in the access log and the hub's log")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_token_void)


def add_client_parsers(csub: Any) -> None:
    text = (
        "revoke every certificate of a portal or operator and void its unused tokens; "
        "it may come back with a new token"
    )
    sp = csub.add_parser("revoke", help=text, description=text)
    sp.add_argument("name", help="client name, e.g. iplatform-web")
    sp.add_argument("--role", required=True, choices=ROLES)
    sp.add_argument("--reason", help="recorded in the access log and the hub's log")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_client_revoke)

    sp = csub.add_parser(
        "list", help="portals and operators with their certificates and outstanding tokens"
    )
    sp.add_argument("--json", action="store_true", help="print JSON")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_client_list)
