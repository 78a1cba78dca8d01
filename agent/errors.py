"""Errors of the agent. Messages say what to do next; only ``agent.cli.main`` prints them.

::

    AgentError                     exit code 1
    ├── ConfigError                agent.toml missing or invalid (names file, key, fix)
    ├── SourceError                a source could not be read at all (file missing, DB down);
    │                              the last good state is kept
    ├── StateError                 the local state database is unusable
    ├── PkiError                   key/certificate missing, expired or not matching
    └── SyncError                  a sync session failed; carries the gRPC status code
        └── RefusedError           the hub refused us (permission, invalid data): retrying
                                   the same data will not help
"""

from __future__ import annotations


class AgentError(Exception):
    exit_code = 1


class ConfigError(AgentError):
    exit_code = 2


class SourceError(AgentError):
    pass


class StateError(AgentError):
    pass


class PkiError(AgentError):
    pass


class SyncError(AgentError):
    def __init__(self, message: str, code: str = "UNKNOWN", retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class RefusedError(SyncError):
    def __init__(self, message: str, code: str = "PERMISSION_DENIED") -> None:
        super().__init__(message, code=code, retryable=False)
