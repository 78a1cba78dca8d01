"""The service account (``--service systemd`` as root): created with useradd if missing.

A system account with no login shell, no home of its own (its home is STATE_DIR, which the
installer makes) and its own group; the group may read agent.toml (mode 0640), so a
password in a SQL source's URL is readable by the agent and root only.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from installer import commands
from installer.errors import StepError

STEP = "user"


@dataclass(frozen=True)
class Account:
    user: str
    group: str
    uid: int
    gid: int


def lookup(user: str) -> Account | None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return Account(user, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid)


def create(user: str, home: Path) -> Account:
    nologin = next(
        (p for p in ("/usr/sbin/nologin", "/sbin/nologin") if Path(p).exists()), "/bin/false"
    )
    commands.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", home,
         "--shell", nologin, "--comment", "i-Platform sync agent", user],
        step=STEP,
        what=f"useradd {user}",
        fix=f"create the account yourself (useradd --system {user}) or pass --service-user",
        timeout=60,
    )  # fmt: skip
    account = lookup(user)
    if account is None:
        raise StepError(f"useradd reported success but {user} does not exist", STEP)
    return account


def delete(user: str) -> None:
    """userdel; its group goes with it (it was made by --user-group)."""
    if lookup(user) is None:
        return
    commands.run(
        ["userdel", user],
        step=STEP,
        what=f"userdel {user}",
        fix=f"remove the account yourself: userdel {user}",
        timeout=60,
    )


def is_root() -> bool:
    return os.geteuid() == 0


def have_useradd() -> bool:
    return shutil.which("useradd") is not None


def chown_tree(root: Path, account: Account) -> None:
    """Give ``root`` and everything under it to the account (no symlinks followed)."""
    os.chown(root, account.uid, account.gid, follow_symlinks=False)
    for path in root.rglob("*"):
        os.chown(path, account.uid, account.gid, follow_symlinks=False)
