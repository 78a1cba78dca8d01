"""What every ``iplat-hub`` command module shares: output, config, store, usage errors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from hub import config as hub_config
from hub import pki, token_format
from hub.errors import HubError
from hub.store import Store


class UsageError(HubError):
    """A command-line value is wrong; the message names the option and the allowed values."""

    exit_code = 2


def out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def load_config(args: argparse.Namespace) -> hub_config.HubConfig:
    return hub_config.load(Path(args.data_dir))


def open_store(cfg: hub_config.HubConfig) -> Store:
    return Store.open(cfg.database_url)


def add_data_dir(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--data-dir", required=True, help="the hub's data directory")


def active_ca_fingerprint(cfg: hub_config.HubConfig) -> str:
    """``sha256:HEX`` of the CA that signs new certificates (what install commands pin)."""
    return pki.cert_fingerprint(pki.load_ca(cfg.pki_paths).cert)


def advertised_address(cfg: hub_config.HubConfig, override: str | None = None) -> str:
    """The HOST:PORT agents should dial: ``--hub``, else ``public_address``, else the address
    of the hub serving from this data dir (serve.json), else ``listen``."""
    if override:
        try:
            _, port = hub_config.parse_listen(override)
        except ValueError as exc:
            raise UsageError(f"--hub: {exc}; write HOST:PORT agents can reach") from None
        if port == 0:
            raise UsageError("--hub: port 0 cannot be dialled; write the hub's real port")
        return override
    if cfg.public_address:
        return cfg.public_address
    try:
        running = json.loads(cfg.serve_info_path.read_text())["grpc"]
    except (OSError, ValueError, KeyError, TypeError):
        running = None
    return str(running) if running else cfg.listen


def ttl_seconds(cfg: hub_config.HubConfig, text: str | None) -> int:
    if text is None:
        return cfg.enroll.token_ttl_seconds
    try:
        seconds = token_format.parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--ttl: {exc}") from None
    if not 60 <= seconds <= 30 * 86400:
        raise UsageError(f"--ttl: {text} is outside 1m..30d; tokens are meant to be short-lived")
    return seconds
