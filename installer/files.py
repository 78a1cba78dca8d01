"""Writing, moving and removing files so that a crash leaves either the old or the new file.

Every file the installer writes goes through :func:`write_atomic` (a temp file in the same
directory, fsync, rename, fsync of the directory). :func:`move` also works across file
systems (``/etc`` and ``/var`` are separate mounts on many servers).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``; the temp file has ``mode`` before any byte is written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def move(src: Path, dst: Path) -> None:
    """Move a file, keeping its mode; atomic at ``dst`` even across file systems."""
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        write_atomic(dst, src.read_bytes(), mode=src.stat().st_mode & 0o7777)
        src.unlink()
    fsync_dir(dst.parent)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove(path: Path) -> bool:
    """Remove a file, a symlink or a whole directory tree; False if nothing was there."""
    if path.is_symlink() or path.is_file():
        path.unlink()
        return True
    if path.is_dir():
        shutil.rmtree(path)
        return True
    return False


def rmdir_if_empty(path: Path) -> bool:
    """Remove ``path`` if it is an empty directory; True if it was removed."""
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
            return True
    return False


def make_dirs(path: Path, mode: int) -> list[Path]:
    """``mkdir -p``: ``path`` gets ``mode``, parents 0755; returns what it created, outermost
    first (so that an undo removes exactly those, and nothing that existed before)."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        want = mode if d == path else 0o755
        d.mkdir()
        os.chmod(d, want)  # mkdir's mode is filtered by the umask; the result must not be
    return list(reversed(missing))
