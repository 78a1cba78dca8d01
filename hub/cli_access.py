"""``iplat-hub token create`` and ``iplat-hub client add``: letting agents, portals and
operators in.

A token is printed once, with the hub's CA fingerprint (so the new peer can pin the hub's
CA before it trusts anything) and, for centers, the install command a center's IT staff
paste. The hub keeps only a hash of the token's secret. Listing, voiding and revoking:
:mod:`hub.cli_identities`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path
from typing import Any

from hub import cli_common, cli_identities, issuer, pki, token_format
from hub.cli_common import UsageError, out
from hub.config import HubConfig
from hub.errors import PkiError, UnknownCenter
from hub.store import Store, TokenRejected
from proto import identity, timeconv

ROLES = ("portal", "operator")


def _create_token(
    cfg: HubConfig, store: Store, kind: str, name: str, ttl: int, now: int
) -> tuple[str, int]:
    token, info = token_format.new_token(kind, name, ttl, now)
    try:
        store.create_token(info)
    except UnknownCenter:
        raise UnknownCenter(
            f"center {name!r} is not registered; add it first with "
            f"'iplat-hub center add {name} ... --data-dir {cfg.data_dir}'"
        ) from None
    except TokenRejected:
        raise UsageError(
            f"center {name} is banned: no token is issued for it. Lift the ban first with "
            f"'iplat-hub center unban {name} --data-dir {cfg.data_dir}'"
        ) from None
    return token, info.expires_at


def cmd_token_create(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    try:
        identity.check_center_id(args.center)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ttl = cli_common.ttl_seconds(cfg, args.ttl)
    hub_address = cli_common.advertised_address(cfg, args.hub)
    fingerprint = cli_common.active_ca_fingerprint(cfg)
    now = int(time.time())
    with cli_common.open_store(cfg) as store:
        token, expires_at = _create_token(cfg, store, "center", args.center, ttl, now)
    command = shlex.join(
        [
            "iplat-install", "agent", "--hub", hub_address, "--token", token,
            "--ca-fingerprint", fingerprint,
        ]
    )  # fmt: skip
    if args.json:
        result: dict[str, Any] = {
            "center": args.center,
            "token": token,
            "ca_fingerprint": fingerprint,
            "expires_at": timeconv.iso(expires_at),
            "hub": hub_address,
            "install_command": command,
        }
        out(json.dumps(result, indent=2))
        return 0
    expires = timeconv.iso(expires_at)
    out(f"enrollment token for center {args.center} (single use, expires {expires}):")
    out(f"  {token}")
    out(f"hub CA fingerprint: {fingerprint}")
    out("on the center's server, run:")
    out(f"  {command}")
    out("the token is shown only now; if it is lost or expires, create a new one")
    return 0


def cmd_client_add(args: argparse.Namespace) -> int:
    cfg = cli_common.load_config(args)
    try:
        who = identity.make(cfg.trust_domain, args.role, args.name)
    except ValueError as exc:
        raise UsageError(f"{exc}: use letters, digits, '.', '_' or '-' (at most 64)") from None
    if (args.csr is None) == (not args.token):
        raise UsageError("give exactly one of --csr FILE (sign it now) or --token (enroll later)")
    if args.token:
        return _client_token(cfg, args, who)
    csr_path = Path(args.csr).resolve()
    try:
        csr_pem = csr_path.read_bytes()
    except OSError as exc:
        raise PkiError(f"cannot read the CSR {csr_path} ({exc}); check the path") from exc
    days = args.days if args.days is not None else cfg.pki.client_cert_days
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    cert = issuer.issue(cfg, csr_pem, who, days=days)
    cert_path = csr_path.parent / f"{args.name}.crt"
    bundle_path = csr_path.parent / "ca.pem"
    pki.write_atomic(cert_path, cert.cert_pem)
    pki.write_atomic(bundle_path, issuer.trust_bundle(cfg))
    with cli_common.open_store(cfg) as store:
        store.record_issued(
            who.kind, who.name, cert.serial, cert.not_after, ca_fingerprint=cert.ca_fingerprint
        )
    out(f"signed {who.uri} (valid {days} days, expires {timeconv.iso(cert.not_after)})")
    out(f"  wrote {cert_path}")
    out(
        f"  wrote {bundle_path} (the hub's trust bundle: trust it for the hub's server certificate)"
    )
    address = cli_common.advertised_address(cfg)
    out(f"next: connect to {address} with the key of that CSR and {cert_path.name}")
    return 0


def _client_token(cfg: HubConfig, args: argparse.Namespace, who: identity.Identity) -> int:
    ttl = cli_common.ttl_seconds(cfg, args.ttl)
    fingerprint = cli_common.active_ca_fingerprint(cfg)
    hub_address = cli_common.advertised_address(cfg, args.hub)
    with cli_common.open_store(cfg) as store:
        token, expires_at = _create_token(cfg, store, who.kind, who.name, ttl, int(time.time()))
    if args.json:
        out(
            json.dumps(
                {
                    "identity": who.uri,
                    "token": token,
                    "ca_fingerprint": fingerprint,
                    "expires_at": timeconv.iso(expires_at),
                    "hub": hub_address,
                },
                indent=2,
            )
        )
        return 0
    out(f"enrollment token for {who.uri} (single use, expires {timeconv.iso(expires_at)}):")
    out(f"  {token}")
    out(f"hub CA fingerprint: {fingerprint}")
    out(
        f"the client calls iplatform.v1.EnrollmentService/Enroll on {hub_address} with this "
        "token and its CSR, trusting only the CA with that fingerprint and presenting a "
        "bootstrap certificate derived from that CA (proto.bootstrap)"
    )
    return 0


def add_parsers(sub: Any) -> None:
    token = sub.add_parser("token", help="one-time enrollment tokens: create, list, void")
    tsub = token.add_subparsers(dest="token_command", required=True)
    sp = tsub.add_parser(
        "create",
        help="print a one-time token, the CA fingerprint and the install command for a center",
        description="Create a single-use enrollment token bound to one registered center. "
        "Only a hash is stored; the token is printed once, with the hub's CA fingerprint and "
        "the 'iplat-install agent' command to paste on the center's server.",
    )
    sp.add_argument("--center", required=True, help="the registered center id, e.g. KR-MR-0001")
    sp.add_argument(
        "--ttl", help="lifetime, e.g. 30m, 24h, 7d (default: [enroll] token_ttl_seconds)"
    )
    sp.add_argument(
        "--hub", help="HOST:PORT agents dial (default: public_address in hub.toml, else listen)"
    )
    sp.add_argument(
        "--json", action="store_true", help="token, ca_fingerprint, expires_at, ... as JSON"
    )
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_token_create)
    cli_identities.add_token_parsers(tsub)

    client = sub.add_parser(
        "client", help="certificates for portals and operators: add, list, revoke"
    )
    csub = client.add_subparsers(dest="client_command", required=True)
    sp = csub.add_parser(
        "add",
        help="issue a portal/operator certificate from a CSR, or a token to enroll with",
        description="Issue a certificate with identity spiffe://<trust domain>/<role>/NAME: "
        "with --csr FILE, write NAME.crt and ca.pem beside the CSR; with --token, print a "
        "one-time enrollment token instead.",
    )
    sp.add_argument("name", help="client name, e.g. iplatform-web")
    sp.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="portal: read the view; operator: read and (later) administer",
    )
    sp.add_argument("--csr", help="the client's PEM certificate signing request")
    sp.add_argument("--token", action="store_true", help="print an enrollment token instead")
    sp.add_argument(
        "--days", type=int, help="lifetime with --csr (default: [pki] client_cert_days)"
    )
    sp.add_argument("--ttl", help="token lifetime with --token, e.g. 24h")
    sp.add_argument("--hub", help="HOST:PORT the client dials (shown with --token)")
    sp.add_argument("--json", action="store_true", help="with --token: print JSON")
    cli_common.add_data_dir(sp)
    sp.set_defaults(func=cmd_client_add)
    cli_identities.add_client_parsers(csub)
