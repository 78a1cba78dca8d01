"""The install manifest: PREFIX/install.json, what an install created, for re-runs and uninstall.

Written atomically after every install step (so a killed installer still leaves a record
of what it had created) and once more, ``complete``, when the install is committed.
Uninstall removes only what the manifest says the installer created: never the center's
own files. The file carries a format version; an installer refuses a manifest of a newer
format instead of guessing what it means.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from installer import files
from installer.errors import ManifestError
from installer.layout import KEPT_NAME, SERVICES, Service

FORMAT = 1


@dataclass(frozen=True)
class CreatedFile:
    path: str
    """Absolute path of a file the installer placed outside PREFIX and STATE_DIR."""
    sha256: str
    """Its content hash when the install was committed: a file changed since then holds
    someone's work (e.g. a CSV template filled with the center's equipment) and is kept."""


@dataclass(frozen=True)
class Manifest:
    prefix: str
    config_dir: str
    state_dir: str
    service: Service
    """``systemd`` or ``none``."""
    unit_path: str
    """The unit file written (installed for systemd, a reference copy for none)."""
    hub: str
    format: int = FORMAT
    installer_version: str = ""
    complete: bool = False
    """False while an install is running (or after one was killed half-way)."""
    installed_at: str = ""
    """ISO time of the last committed install (UTC)."""
    service_user: str = ""
    """The account the systemd service runs as ("" with --service none)."""
    user_created: bool = False
    """The installer created ``service_user`` (uninstall deletes it)."""
    center_id: str = ""
    package: str = ""
    """The package spec installed into the venv."""
    agent_version: str = ""
    created_dirs: tuple[str, ...] = ()
    """Directories the installer created (removed on uninstall once empty of its files)."""
    config_files: tuple[CreatedFile, ...] = field(default=())
    """Files the installer placed in CONFIG_DIR."""

    def with_dir(self, path: Path) -> Manifest:
        if str(path) in self.created_dirs:
            return self
        return replace(self, created_dirs=(*self.created_dirs, str(path)))

    def without_dir(self, path: Path) -> Manifest:
        return replace(self, created_dirs=tuple(d for d in self.created_dirs if d != str(path)))

    def with_config_file(self, path: Path, sha256: str) -> Manifest:
        kept = tuple(f for f in self.config_files if f.path != str(path))
        return replace(self, config_files=(*kept, CreatedFile(str(path), sha256)))

    def without_config_file(self, path: Path) -> Manifest:
        return replace(
            self, config_files=tuple(f for f in self.config_files if f.path != str(path))
        )

    def created(self, path: Path) -> bool:
        return str(path) in self.created_dirs or any(f.path == str(path) for f in self.config_files)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> Manifest:
        fmt = data.get("format")
        if not isinstance(fmt, int):
            raise ManifestError(f"{source} is not an install manifest (no format number)")
        if fmt > FORMAT:
            raise ManifestError(
                f"{source} was written by a newer installer (format {fmt}, this one reads up to "
                f"{FORMAT}): run the newer iplat-install"
            )
        if data.get("service") not in SERVICES:
            raise ManifestError(f"{source} names no known service mode: remove the install by hand")
        try:
            return cls(
                **{
                    **data,
                    "created_dirs": tuple(data.get("created_dirs", ())),
                    "config_files": tuple(CreatedFile(**f) for f in data.get("config_files", ())),
                }
            )
        except TypeError as exc:
            raise ManifestError(
                f"{source} is damaged ({exc}): remove the install by hand"
            ) from None


def load(path: Path) -> Manifest | None:
    """The manifest at ``path``, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror}; run as root?") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{path} is not valid JSON ({exc}): remove the install by hand"
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path} is not an install manifest")
    return Manifest.from_json(data, path)


def save(path: Path, manifest: Manifest) -> None:
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    files.write_atomic(path, text.encode("utf-8"))


def save_kept(state_dir: Path, created_dirs: tuple[str, ...]) -> None:
    """``uninstall --keep-state``: remember which of the kept dirs the installer created
    (STATE_DIR and the parents it made), so the install that takes the state over owns them
    again and a later full uninstall removes them."""
    kept = [d for d in created_dirs if state_dir == Path(d) or state_dir.is_relative_to(d)]
    data = {"format": FORMAT, "created_dirs": kept}
    files.write_atomic(state_dir / KEPT_NAME, (json.dumps(data, indent=2) + "\n").encode())


def load_kept(state_dir: Path) -> tuple[str, ...]:
    """The dirs recorded by :func:`save_kept` that still exist (none if unreadable)."""
    try:
        data = json.loads((state_dir / KEPT_NAME).read_text(encoding="utf-8"))
        dirs = data["created_dirs"] if data.get("format") == FORMAT else []
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ()
    return tuple(str(d) for d in dirs if isinstance(d, str) and Path(d).is_dir())
