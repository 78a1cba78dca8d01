"""Errors of the hub. Messages say what to do next; only ``hub.cli.main`` prints them.

::

    HubError                       exit code 1
    ├── ConfigError                hub.toml missing, unreadable or invalid (names file, key, fix)
    ├── PkiError                   CA/certificate files missing or unusable; CSR invalid
    ├── StoreError                 database unreachable, migration failed
    │   ├── CenterExists
    │   └── UnknownCenter
    └── ServeError                 cannot listen, TLS material mismatch
"""

from __future__ import annotations


class HubError(Exception):
    exit_code = 1


class ConfigError(HubError):
    exit_code = 2


class PkiError(HubError):
    pass


class StoreError(HubError):
    pass


class CenterExists(StoreError):
    pass


class UnknownCenter(StoreError):
    pass


class ServeError(HubError):
    pass
