"""Errors of the installer. Messages say what to do next; only ``installer.cli.main`` prints
them, and it exits with the error's ``exit_code``.

::

    InstallerError                 exit code 1
    ├── UsageError                 exit code 2: an option is wrong or conflicts with what is
    │                              already installed (names the option and the fix)
    ├── NotReadyError              exit code 3: this machine is not ready; nothing was changed
    │   ├── PythonTooOldError      the interpreter is older than the agent needs
    │   ├── HubUnreachableError    no TCP connection to the hub (firewall, DNS, hub down)
    │   └── ClockSkewError         this machine's clock is too far from the hub's
    ├── StepError                  exit code 4: an install step failed; carries the step name
    │   ├── CommandError           a program the step ran (pip, iplat-agent, systemctl)
    │   │                          failed; carries its exit code and output
    │   └── FirstSyncError         exit code 5: the agent started but did not complete its
    │                              first acknowledged sync in time
    ├── RollbackError              exit code 6: a failure was rolled back only in part;
    │                              the message lists what is left to remove by hand
    └── ManifestError              exit code 7: no install at --prefix, or its manifest is
                                   unreadable or from a newer installer

A failure during ``iplat-install agent`` rolls back every step already done, so the
message of the error that caused it is printed with a note of what was undone.
"""

from __future__ import annotations


class InstallerError(Exception):
    exit_code = 1


class UsageError(InstallerError):
    exit_code = 2


class NotReadyError(InstallerError):
    exit_code = 3


class PythonTooOldError(NotReadyError):
    pass


class HubUnreachableError(NotReadyError):
    pass


class ClockSkewError(NotReadyError):
    pass


class StepError(InstallerError):
    exit_code = 4

    def __init__(self, message: str, step: str = "") -> None:
        super().__init__(message)
        self.step = step


class CommandError(StepError):
    def __init__(self, message: str, step: str = "", returncode: int = 1, output: str = "") -> None:
        super().__init__(message, step)
        self.returncode = returncode
        self.output = output


class FirstSyncError(StepError):
    exit_code = 5


class RollbackError(InstallerError):
    exit_code = 6

    def __init__(self, message: str, cause: BaseException, leftovers: tuple[str, ...]) -> None:
        super().__init__(message)
        self.cause = cause
        self.leftovers = leftovers


class ManifestError(InstallerError):
    exit_code = 7
