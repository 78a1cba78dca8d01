"""Errors of the agent. Messages say what to do next; only ``agent.cli.main`` prints them.

::

    AgentError                     exit code 1
    ├── ConfigError                agent.toml missing or invalid (names file, key, fix)
    ├── SourceError                a source could not be read at all (file missing, DB down);
    │                              the last good state is kept
    ├── StateError                 the local state database is unusable
    ├── InboxError                 routed requests: an answer that cannot be sent as given
    │                              (names the field and the fix), or an inbox folder/table
    │                              that cannot be used; the state database keeps every item
    ├── PkiError                   key/certificate missing, expired or not matching
    │   ├── CertificateExpiredError    the certificate expired (center offline past its
    │   │                              renewal): only a new enrollment helps
    │   └── PinMismatchError       exit code 4: the hub's CA is not the pinned one
    │                              (enroll); nothing was sent
    └── SyncError                  a sync session or an enroll/renew call failed; carries
        │                          the gRPC status code
        └── RefusedError           the hub refused us (permission, invalid data): retrying
            │                      the same data will not help
            └── TokenRefusedError  exit code 3: the hub refused the enrollment token (used,
                                   expired, unknown); a new token is needed
"""

from __future__ import annotations

from datetime import datetime


class AgentError(Exception):
    exit_code = 1


class ConfigError(AgentError):
    exit_code = 2


class SourceError(AgentError):
    pass


class StateError(AgentError):
    pass


class InboxError(AgentError):
    pass


class PkiError(AgentError):
    pass


class CertificateExpiredError(PkiError):
    def __init__(self, message: str, not_after: datetime) -> None:
        super().__init__(message)
        self.not_after = not_after


class PinMismatchError(PkiError):
    exit_code = 4


class SyncError(AgentError):
    def __init__(self, message: str, code: str = "UNKNOWN", retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class RefusedError(SyncError):
    def __init__(self, message: str, code: str = "PERMISSION_DENIED") -> None:
        super().__init__(message, code=code, retryable=False)


class TokenRefusedError(RefusedError):
    exit_code = 3
