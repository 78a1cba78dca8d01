"""``iplat-hub``: init, serve, view; center, token, client, ca and apikey commands live in
``cli_centers``, ``cli_access`` (token and client list/revoke/void in ``cli_identities``),
``cli_ca`` and ``cli_apikeys``; requests, demand and guide in ``cli_requests``.

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

from hub import (
    cli_access,
    cli_apikeys,
    cli_ca,
    cli_centers,
    cli_common,
    cli_requests,
    cli_search,
    cli_status,
    logs,
    pki,
    view_render,
)
from hub import config as hub_config
from hub.cli_common import UsageError, open_store
from hub.cli_common import out as _out
from hub.errors import ConfigError, HubError
from hub.store import Store

__all__ = ["UsageError", "build_parser", "main"]


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
        http=hub_config.HttpSettings(listen=args.http_listen),
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
    _out("next: register a center, then create its enrollment token:")
    _out(
        f"  iplat-hub center add KR-MR-0001 --industry machinery-robotics --name-ko ... "
        f"--name-en ... --region ... --data-dir {data_dir}"
    )
    _out(f"  iplat-hub token create --center KR-MR-0001 --data-dir {data_dir}")
    _out(f"and start the hub: iplat-hub serve --data-dir {data_dir}")
    return 0


# -- serve / view ----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
    for option, value in (("--listen", args.listen), ("--http-listen", args.http_listen)):
        if value:
            try:
                hub_config.parse_listen(value)
            except ValueError as exc:
                raise UsageError(f"{option}: {exc}; write HOST:PORT") from None
    logs.setup(cfg.log_level)
    # Imported here so that the short commands do not pay for loading grpc.
    from hub import server

    asyncio.run(server.serve(cfg, listen=args.listen, http_listen=args.http_listen))
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    cfg = hub_config.load(Path(args.data_dir))
    now = int(time.time())
    with open_store(cfg) as store:
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
    p = argparse.ArgumentParser(
        prog="iplat-hub",
        description="i-Platform sync hub: centers' agents sync over mutual-TLS gRPC; "
        "enrollment, renewal and revocation of their certificates; the national view.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    data_dir = cli_common.add_data_dir

    sp = sub.add_parser("init", help="create a hub: config, CA, server certificate, database")
    data_dir(sp)
    sp.add_argument("--db", help="database URL (default: sqlite:///DATA_DIR/hub.db)")
    sp.add_argument(
        "--trust-domain",
        default=hub_config.DEFAULT_TRUST_DOMAIN,
        help="SPIFFE trust domain of every identity",
    )
    sp.add_argument("--listen", default=hub_config.DEFAULT_LISTEN, help="HOST:PORT")
    sp.add_argument(
        "--http-listen",
        default=hub_config.DEFAULT_HTTP_LISTEN,
        help='HOST:PORT of the HTTP/JSON API ([http] listen; port 0: any free port; "": off)',
    )
    sp.add_argument(
        "--host", action="append", help="extra server certificate name or IP (repeatable)"
    )
    sp.set_defaults(func=cmd_init)

    cli_centers.add_parsers(sub)
    cli_access.add_parsers(sub)
    cli_ca.add_parsers(sub)
    cli_search.add_parsers(sub)
    cli_apikeys.add_parsers(sub)
    cli_status.add_parsers(sub)
    cli_requests.add_parsers(sub)

    sp = sub.add_parser(
        "serve",
        help="run the gRPC hub until SIGTERM",
        description="Serve Sync, View, enrollment and certificate renewal on one port. "
        "Evictions, bans and CA rotation steps made by other iplat-hub commands take effect "
        "within [server] reload_poll_seconds, without a restart.",
    )
    data_dir(sp)
    sp.add_argument("--listen", help="HOST:PORT, overrides hub.toml (port 0: any free port)")
    sp.add_argument(
        "--http-listen",
        help='HTTP API HOST:PORT, overrides [http] listen (port 0: any free port; "": off)',
    )
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
