"""``iplat-hub ca status|prepare|activate|retire``: rotating the hub's CA without downtime.

The steps are in :mod:`hub.ca_rotation`; this module adds the checks that need the
database (who would be locked out) and the operator-facing text.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from hub import ca_rotation, cli_common
from hub.cli_common import out
from hub.config import HubConfig
from hub.errors import PkiError
from hub.store import IssuedCertificate
from proto import timeconv

MAX_LISTED = 20


def _listing(certs: list[IssuedCertificate]) -> str:
    lines = [
        f"  {c.kind}/{c.name} serial {c.serial} expires {timeconv.iso(c.not_after)}"
        + ("" if c.ca_fingerprint else " (CA not recorded)")
        for c in certs[:MAX_LISTED]
    ]
    if len(certs) > MAX_LISTED:
        lines.append(f"  ... and {len(certs) - MAX_LISTED} more")
    return "\n".join(lines)


def cmd_ca_status(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    state = ca_rotation.load_state(cfg.pki_paths)
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "status": c.status,
            "fingerprint": c.fingerprint,
            "created_at": timeconv.iso(c.created_at),
            "activated_at": timeconv.iso(c.activated_at),
            "retired_at": timeconv.iso(c.retired_at),
        }
        for c in state.cas
    ]
    if args.json:
        out(json.dumps({"cas": rows}, indent=2))
        return 0
    for r in rows:
        out(f"{r['id']:6} {r['status']:9} {r['fingerprint']}")
    nxt = {
        ca_rotation.PREPARED: "next: iplat-hub ca activate",
        ca_rotation.PREVIOUS: "next: iplat-hub ca retire (once agents have renewed)",
    }
    for c in state.cas:
        if c.status in nxt:
            out(nxt[c.status])
    return 0


def cmd_ca_prepare(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    entry = ca_rotation.prepare(cfg.pki_paths, cfg.trust_domain)
    out(f"new CA {entry.id} created and added to the trust bundle ({entry.fingerprint})")
    out(
        "a running hub trusts it within "
        f"{cfg.server.reload_poll_seconds:g} s and pushes the bundle to connected agents"
    )
    out("next, once every agent has connected since now: iplat-hub ca activate "
        f"--data-dir {cfg.data_dir}")  # fmt: skip
    return 0


def _not_reached(cfg: HubConfig, since: int) -> list[str]:
    """Centers with a valid certificate that have neither connected nor enrolled since
    ``since``: they may not trust the prepared CA yet."""
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        statuses = store.center_statuses(now)
    out_ids = []
    for s in statuses:
        if s.banned or s.cert_expires_at is None:
            continue
        # Whole seconds: a contact in the very second of prepare may have preceded it.
        latest = max(s.state.last_seen or 0, s.cert_issued_at or 0)
        if latest <= since:
            out_ids.append(s.center.id)
    return out_ids


def cmd_ca_activate(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    state = ca_rotation.load_state(cfg.pki_paths)
    prepared = state.prepared
    if prepared is None:
        raise PkiError("no CA is prepared; run 'iplat-hub ca prepare' first")
    missing = _not_reached(cfg, prepared.created_at)
    if missing and not args.force:
        raise PkiError(
            f"{len(missing)} center(s) have not connected since 'ca prepare' and may not trust "
            f"the new CA yet: {', '.join(missing[:MAX_LISTED])}"
            f"{' ...' if len(missing) > MAX_LISTED else ''}. After activation the hub's server "
            "certificate comes from the new CA and they could not connect. Wait until they "
            "have connected (iplat-hub center list), or pass --force"
        )
    new, old = ca_rotation.activate(cfg.pki_paths, cfg.trust_domain, cfg.tls.server_hosts)
    out(f"CA {new.id} now signs new certificates ({new.fingerprint}); {old.id} is still trusted")
    out("server certificate re-issued under it; a running hub serves it and asks connected "
        f"agents to renew within {cfg.server.reload_poll_seconds:g} s")  # fmt: skip
    if missing:
        out(f"warning: not yet reached since prepare: {', '.join(missing[:MAX_LISTED])}")
    out("enrollment tokens created before now pin the old CA: create new ones")
    out(f"next, once agents have renewed: iplat-hub ca retire --data-dir {cfg.data_dir}")
    return 0


def cmd_ca_retire(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    state = ca_rotation.load_state(cfg.pki_paths)
    old = state.previous
    if old is None:
        raise PkiError("no previous CA to retire; 'iplat-hub ca prepare' starts a rotation")
    with cli_common.open_store(cfg) as store:
        depending = store.certificates_depending_on(
            old.fingerprint, int(time.time()), state.active.fingerprint
        )
    if depending and not args.force:
        raise PkiError(
            f"{len(depending)} valid certificate(s) may still depend on {old.id}; their holders "
            "would be cut off:\n"
            f"{_listing(depending)}\n"
            "wait until they have renewed (agents were asked to), or evict them, or pass --force"
        )
    ca_rotation.retire(cfg.pki_paths)
    out(f"CA {old.id} retired: removed from the trust bundle, its key deleted")
    if depending:
        out(f"warning: forced; these certificates no longer work:\n{_listing(depending)}")
    out(f"a running hub stops trusting it within {cfg.server.reload_poll_seconds:g} s")
    return 0


def add_parsers(sub: Any) -> None:
    ca = sub.add_parser("ca", help="rotate the hub's CA: status, prepare, activate, retire")
    csub = ca.add_subparsers(dest="ca_command", required=True)
    sp = csub.add_parser("status", help="the hub's CAs and the rotation step")
    sp.add_argument("--json", action="store_true")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_ca_status)
    sp = csub.add_parser(
        "prepare",
        help="create a new CA and add it to the trust bundle (step 1)",
        description="Create a new CA and add it to bundle.pem. A running hub trusts it at "
        "once and pushes the bundle to connected agents; nothing is signed by it yet.",
    )
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_ca_prepare)
    sp = csub.add_parser(
        "activate",
        help="sign with the new CA, re-issue the server certificate, ask agents to renew (step 2)",
        description="Make the prepared CA the signing one and re-issue the hub's server "
        "certificate under it; a running hub serves it without restart and asks connected "
        "agents to renew. Refused while centers have not connected since prepare.",
    )
    sp.add_argument(
        "--force", action="store_true", help="activate even if some centers were not reached"
    )
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_ca_activate)
    sp = csub.add_parser(
        "retire",
        help="drop the previous CA from the trust bundle (step 3)",
        description="Remove the previous CA from bundle.pem and delete its key. Refused, "
        "listing them, while unexpired and unrevoked certificates it signed exist.",
    )
    sp.add_argument("--force", action="store_true", help="retire even if certificates depend on it")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_ca_retire)
