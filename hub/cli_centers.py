"""``iplat-hub center add|list|sign|evict|ban|unban``.

Center states in ``center list`` are those of :mod:`hub.health.states` (banned, evicted,
registered, enrolled, online, stale, offline, missing), the same ``iplat-hub status``, the
metrics and the dashboard show.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from hub import cli_common, issuer, pki, view_render
from hub.cli_common import UsageError, out
from hub.errors import PkiError, UnknownCenter
from hub.health.states import center_state
from hub.store import CenterInfo
from proto import codes, identity, timeconv

ROLES = ("representative", "operating", "participating")


def cmd_center_add(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    try:
        identity.check_center_id(args.id)
        industry = codes.INDUSTRY.code(codes.INDUSTRY.value(args.industry))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    info = CenterInfo(
        id=args.id,
        name_ko=args.name_ko,
        name_en=args.name_en,
        industry=industry,
        region=args.region,
        role=args.role,
        time_zone=args.time_zone,
    )
    with cli_common.open_store(cfg) as store:
        try:
            info = store.add_center(info)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    out(f"center {info.id} added ({info.name_ko} / {info.name_en}, {info.industry}, {info.role})")
    out("next: create an enrollment token and give it to the center's IT staff:")
    out(f"  iplat-hub token create --center {info.id} --data-dir {cfg.data_dir}")
    out("(or sign the agent's CSR offline: iplat-hub center sign PATH/agent.csr --center ...)")
    return 0


def cmd_center_list(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        statuses = store.center_statuses(now)
    rows: list[dict[str, Any]] = []
    for s in statuses:
        c, st = s.center, s.state
        rows.append(
            {
                "id": c.id,
                "name_ko": c.name_ko,
                "name_en": c.name_en,
                "industry": c.industry,
                "region": c.region,
                "role": c.role,
                "state": center_state(s, now, cfg.sync, cfg.ops),
                "last_seen": timeconv.iso(st.last_seen),
                "cert_expires_at": timeconv.iso(s.cert_expires_at),
                "hwm": st.hwm,
                "backlog": st.backlog,
                "agent_version": st.agent_version,
            }
        )
    if args.json:
        # A bare list, as scripts expect (issue: "a list with at least id, state, ...").
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        out(f"no centers yet: add one with 'iplat-hub center add ... --data-dir {cfg.data_dir}'")
        return 0
    table = view_render.table(
        ["id", "name", "industry", "state", "last_seen", "cert_expires", "hwm"],
        [
            [
                r["id"],
                str(r["name_ko"] or r["name_en"]),
                r["industry"],
                r["state"],
                r["last_seen"] or "-",
                r["cert_expires_at"] or "-",
                str(r["hwm"]),
            ]
            for r in rows
        ],
    )
    out("\n".join(table))
    return 0


def cmd_center_sign(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    csr_path = Path(args.csr).resolve()
    try:
        csr_pem = csr_path.read_bytes()
    except OSError as exc:
        raise PkiError(
            f"cannot read the CSR {csr_path} ({exc}); copy agent.csr from the center"
        ) from exc
    days = args.days if args.days is not None else cfg.pki.agent_cert_days
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    with cli_common.open_store(cfg) as store:
        if store.get_center(args.center) is None:
            raise UnknownCenter(
                f"center {args.center!r} is not registered; add it first with "
                f"'iplat-hub center add {args.center} ... --data-dir {cfg.data_dir}'"
            )
        if store.is_banned(args.center):
            raise UsageError(
                f"center {args.center} is banned: nothing is signed for it. Lift the ban first "
                f"with 'iplat-hub center unban {args.center} --data-dir {cfg.data_dir}'"
            )
        who = identity.make(cfg.trust_domain, "center", args.center)
        cert = issuer.issue(cfg, csr_pem, who, days=days)
        cert_path = csr_path.parent / "agent.crt"
        bundle_path = csr_path.parent / "ca.pem"
        pki.write_atomic(cert_path, cert.cert_pem)
        pki.write_atomic(bundle_path, issuer.trust_bundle(cfg))
        store.record_certificate(
            args.center, cert.serial, cert.not_after, ca_fingerprint=cert.ca_fingerprint
        )
    out(f"signed {who.uri} (valid {days} days, {pki.fingerprint(cert.cert_pem)})")
    out(f"  wrote {cert_path}")
    out(f"  wrote {bundle_path} (the hub's trust bundle)")
    out("next: copy both files into the agent's directory and run 'iplat-agent check'")
    return 0


def _access(args: argparse.Namespace, action: str) -> int:
    cfg = cli_common.load_config(args)
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        try:
            if action == "evict":
                change = store.evict_center(args.id, now, args.reason or "")
            elif action == "ban":
                change = store.ban_center(args.id, now, args.reason or "")
            else:
                change = store.unban_center(args.id, now, args.reason or "")
        except UnknownCenter:
            raise UnknownCenter(
                f"center {args.id!r} is not registered; see 'iplat-hub center list "
                f"--data-dir {cfg.data_dir}'"
            ) from None
    poll = cfg.server.reload_poll_seconds
    where = cfg.data_dir
    if action == "unban":
        out(f"center {args.id} unbanned; its old certificates stay revoked")
        out(f"next: iplat-hub token create --center {args.id} --data-dir {cfg.data_dir}")
        return 0
    out(
        f"center {args.id} {'banned' if action == 'ban' else 'evicted'}: "
        f"{change.certificates_revoked} certificate(s) revoked, "
        f"{change.tokens_voided} unused token(s) withdrawn"
    )
    out(f"a running hub closes its stream and refuses its calls within {poll:g} s")
    if action == "evict":
        out(f"to let it back in: iplat-hub token create --center {args.id} --data-dir {where}")
    else:
        out(f"no token is issued for it until: iplat-hub center unban {args.id} --data-dir {where}")
    return 0


def cmd_center_evict(args: argparse.Namespace) -> int:
    return _access(args, "evict")


def cmd_center_ban(args: argparse.Namespace) -> int:
    return _access(args, "ban")


def cmd_center_unban(args: argparse.Namespace) -> int:
    return _access(args, "unban")


def add_parsers(sub: Any) -> None:
    center = sub.add_parser(
        "center", help="register centers, list their state, sign, evict or ban their agents"
    )
    csub = center.add_subparsers(dest="center_command", required=True)
    sp = csub.add_parser("add", help="register a center")
    sp.add_argument("id", help="center id, e.g. KR-MR-0001")
    sp.add_argument("--industry", required=True, help=", ".join(codes.INDUSTRY.codes))
    sp.add_argument("--name-ko", required=True)
    sp.add_argument("--name-en", required=True)
    sp.add_argument("--region", required=True)
    sp.add_argument("--role", choices=ROLES, default="participating")
    sp.add_argument("--time-zone", default="Asia/Seoul")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_center_add)

    sp = csub.add_parser(
        "list",
        help="centers with state, last_seen and certificate expiry",
        description="States: banned, evicted, registered (never enrolled), enrolled (never "
        "connected), online (heard within 2 heartbeats), stale (within [sync] "
        "stale_after_seconds), offline (silent longer; its data is flagged stale).",
    )
    cli_common.add_data_dir(sp)
    sp.add_argument(
        "--json", action="store_true", help='[{"id", "state", "last_seen", "cert_expires_at", ...}]'
    )
    sp.set_defaults(func=cmd_center_list)

    sp = csub.add_parser("sign", help="sign an agent's CSR for a center (offline enrollment)")
    sp.add_argument("csr", help="the agent's CSR file (agent.csr)")
    sp.add_argument("--center", required=True)
    sp.add_argument("--days", type=int, help="lifetime (default: [pki] agent_cert_days)")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_center_sign)

    for name, func, text in (
        (
            "evict",
            cmd_center_evict,
            "revoke all of a center's certificates and close its stream; it may come back "
            "with a new token",
        ),
        (
            "ban",
            cmd_center_ban,
            "evict a center and refuse new tokens and certificates for it until unban",
        ),
        ("unban", cmd_center_unban, "lift a ban (old certificates stay revoked)"),
    ):
        sp = csub.add_parser(name, help=text, description=text)
        sp.add_argument("id", help="center id")
        sp.add_argument("--reason", help="recorded in the access log and the hub's log")
        cli_common.add_data_dir(sp)
        sp.set_defaults(func=func)
