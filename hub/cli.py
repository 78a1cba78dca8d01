"""``iplat-hub``: init, center add|sign|list, serve, view.

Commands raise :class:`~hub.errors.HubError`; only :func:`main` prints errors, and it
exits with the error's ``exit_code`` (2 for usage and configuration mistakes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from hub import config as hub_config
from hub import logs, pki, view_render
from hub.errors import ConfigError, HubError, PkiError, UnknownCenter
from hub.store import CenterInfo, Store
from proto import codes, identity, timeconv

ROLES = ("representative", "operating", "participating")


class UsageError(HubError):
    """A command-line value is wrong; the message names the option and the allowed values."""

    exit_code = 2


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def _open_store(cfg: hub_config.HubConfig) -> Store:
    return Store.open(cfg.database_url)


# -- init ------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    cfg_path = data_dir / hub_config.CONFIG_NAME
    paths = pki.PkiPaths(data_dir / "pki")
    existing = [p for p in (cfg_path, *paths.all()) if p.exists()]
    if existing:
        raise ConfigError(
            f"a hub already exists in {data_dir} ({existing[0].name} is there); refusing to "
            "overwrite its keys. Use another --data-dir, or delete the directory if you really "
            "mean to start over (every agent would need a new certificate)"
        )
    hosts = [*pki.default_hosts(), *(args.host or [])]
    cfg = hub_config.HubConfig(
        data_dir=data_dir,
        trust_domain=args.trust_domain,
        listen=args.listen,
        database_url=args.db or hub_config.default_database_url(data_dir),
        tls=hub_config.TlsSettings(server_hosts=tuple(dict.fromkeys(hosts))),
    )
    text = hub_config.render(cfg)
    # Validate exactly what will be written, so init never leaves a hub that cannot start.
    hub_config.from_dict(tomllib.loads(text), data_dir, cfg_path)
    created_dir = not data_dir.exists()
    created_pki = not paths.dir.exists()
    try:
        pki.init_pki(paths, cfg.trust_domain, cfg.tls.server_hosts)
        Store.open(cfg.database_url).close()
        pki.write_atomic(cfg_path, text.encode())
    except BaseException:
        # Roll back so that a corrected rerun of init is not refused as "already exists".
        for p in paths.all():
            p.unlink(missing_ok=True)
        if created_pki:
            shutil.rmtree(paths.dir, ignore_errors=True)
        if created_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    _out(f"hub created in {data_dir}")
    _out(f"  config        {cfg_path}")
    _out(f"  CA            {paths.ca_cert} (key {paths.ca_key}, mode 0600: back it up offline)")
    _out(f"  trust bundle  {paths.bundle}")
    _out(f"  server cert   {paths.server_cert} for {', '.join(cfg.tls.server_hosts)}")
    _out(f"  database      {cfg.database_url}")
    _out("next: register a center with")
    _out(
        f"  iplat-hub center add KR-MR-0001 --industry machinery-robotics --name-ko ... "
        f"--name-en ... --region ... --data-dir {data_dir}"
    )
    _out(f"then start the hub: iplat-hub serve --data-dir {data_dir}")
    return 0


# -- center ----------------------------------------------------------------------------------


def cmd_center_add(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
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
    with _open_store(cfg) as store:
        try:
            info = store.add_center(info)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    _out(f"center {info.id} added ({info.name_ko} / {info.name_en}, {info.industry}, {info.role})")
    _out("next: on the center's server run 'iplat-agent init', then sign its request here:")
    _out(f"  iplat-hub center sign PATH/agent.csr --center {info.id} --data-dir {cfg.data_dir}")
    return 0


def _center_state(last_seen: int | None, connected: bool, now: int, stale_after: int) -> str:
    if last_seen is None:
        return "never"
    return "online" if connected and now - last_seen <= stale_after else "stale"


def cmd_center_list(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
    now = int(time.time())
    rows: list[dict[str, Any]] = []
    with _open_store(cfg) as store:
        for c in store.list_centers():
            st = store.sync_state(c.id)
            rows.append(
                {
                    "id": c.id,
                    "name_ko": c.name_ko,
                    "name_en": c.name_en,
                    "industry": c.industry,
                    "region": c.region,
                    "role": c.role,
                    "state": _center_state(
                        st.last_seen, st.connected, now, cfg.sync.stale_after_seconds
                    ),
                    "last_seen": timeconv.iso(st.last_seen),
                    "hwm": st.hwm,
                    "agent_version": st.agent_version,
                }
            )
    if args.json:
        _out(json.dumps({"centers": rows}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        _out(f"no centers yet: add one with 'iplat-hub center add ... --data-dir {cfg.data_dir}'")
        return 0
    table = view_render.table(
        ["id", "name", "industry", "state", "last_seen", "hwm"],
        [
            [
                r["id"],
                str(r["name_ko"] or r["name_en"]),
                r["industry"],
                r["state"],
                r["last_seen"] or "-",
                str(r["hwm"]),
            ]
            for r in rows
        ],
    )
    _out("\n".join(table))
    return 0


def cmd_center_sign(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
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
    with _open_store(cfg) as store:
        if store.get_center(args.center) is None:
            raise UnknownCenter(
                f"center {args.center!r} is not registered; add it first with "
                f"'iplat-hub center add {args.center} ... --data-dir {cfg.data_dir}'"
            )
        ca = pki.load_ca(cfg.pki_paths)
        who = identity.make(cfg.trust_domain, "center", args.center)
        cert_pem = ca.sign_csr(csr_pem, who, days)
        cert_path = csr_path.parent / "agent.crt"
        bundle_path = csr_path.parent / "ca.pem"
        bundle = cfg.pki_paths.bundle.read_bytes()
        pki.write_atomic(cert_path, cert_pem)
        pki.write_atomic(bundle_path, bundle)
        store.record_certificate(
            args.center, pki.serial_hex(cert_pem), pki.not_after_epoch(cert_pem)
        )
    _out(f"signed {who.uri} (valid {days} days, {pki.fingerprint(cert_pem)})")
    _out(f"  wrote {cert_path}")
    _out(f"  wrote {bundle_path} (the hub's trust bundle)")
    _out("next: copy both files into the agent's directory and run 'iplat-agent check'")
    return 0


# -- serve / view ----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
    if args.listen:
        try:
            hub_config.parse_listen(args.listen)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}; write HOST:PORT") from None
    logs.setup(cfg.log_level)
    # Imported here so that the short commands do not pay for loading grpc.
    from hub import server

    asyncio.run(server.serve(cfg, listen=args.listen))
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
    now = int(time.time())
    with _open_store(cfg) as store:
        snapshots = store.national_view(
            now, cfg.sync.stale_after_seconds, center_ids=args.center or None
        )
    if args.json:
        _out(json.dumps(view_render.to_json(snapshots, now), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(view_render.to_text(snapshots, now))
    return 0


# -- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iplat-hub", description="i-Platform sync hub")
    sub = p.add_subparsers(dest="command", required=True)

    def data_dir(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data-dir", required=True, help="the hub's data directory")

    sp = sub.add_parser("init", help="create a hub: config, CA, server certificate, database")
    data_dir(sp)
    sp.add_argument("--db", help="database URL (default: sqlite:///DATA_DIR/hub.db)")
    sp.add_argument("--trust-domain", default=hub_config.DEFAULT_TRUST_DOMAIN)
    sp.add_argument("--listen", default=hub_config.DEFAULT_LISTEN, help="HOST:PORT")
    sp.add_argument(
        "--host", action="append", help="extra server certificate name or IP (repeatable)"
    )
    sp.set_defaults(func=cmd_init)

    center = sub.add_parser("center", help="register centers and sign their certificates")
    csub = center.add_subparsers(dest="center_command", required=True)
    sp = csub.add_parser("add", help="register a center")
    sp.add_argument("id", help="center id, e.g. KR-MR-0001")
    sp.add_argument("--industry", required=True, help=", ".join(codes.INDUSTRY.codes))
    sp.add_argument("--name-ko", required=True)
    sp.add_argument("--name-en", required=True)
    sp.add_argument("--region", required=True)
    sp.add_argument("--role", choices=ROLES, default="participating")
    sp.add_argument("--time-zone", default="Asia/Seoul")
    data_dir(sp)
    sp.set_defaults(func=cmd_center_add)

    sp = csub.add_parser("list", help="centers and their sync state")
    data_dir(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_center_list)

    sp = csub.add_parser("sign", help="sign an agent's CSR for a center")
    sp.add_argument("csr", help="the agent's CSR file (agent.csr)")
    sp.add_argument("--center", required=True)
    sp.add_argument("--days", type=int, help="lifetime (default: [pki] agent_cert_days)")
    data_dir(sp)
    sp.set_defaults(func=cmd_center_sign)

    sp = sub.add_parser("serve", help="run the gRPC hub until SIGTERM")
    data_dir(sp)
    sp.add_argument("--listen", help="HOST:PORT, overrides hub.toml (port 0: any free port)")
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("view", help="print the national view from the database")
    data_dir(sp)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--center", action="append", help="only this center (repeatable)")
    sp.set_defaults(func=cmd_view)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    try:
        code: int = args.func(args)
        return code
    except HubError as exc:
        print(f"iplat-hub: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
