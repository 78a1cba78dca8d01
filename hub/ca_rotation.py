"""The hub's CAs over time: prepare a new CA, activate it, retire the old one.

``DATA_DIR/pki`` keeps every CA as ``ca-<n>.key`` / ``ca-<n>.pem`` and a small versioned
state file, ``state.json``, written atomically. ``ca.key`` / ``ca.pem`` are always the
*active* CA (the one that signs), ``bundle.pem`` every CA peers must trust, active first.
A hub that never rotated has no state file: its one CA is ``ca.pem``, called ``ca-1``.

The steps, each one CLI command (a serving hub picks the files up within
``[server] reload_poll_seconds``, see ``hub.tls``):

1. ``prepare``: a new CA joins the bundle. Serving hubs trust it and push the bundle to
   connected agents (``Control.trust_bundle``); nothing is signed by it yet.
2. ``activate``: the new CA signs from now on; the server certificate is re-issued under
   it; connected agents are asked to renew (``Control.renew``). Refused while centers with
   valid certificates have not connected since ``prepare`` (they may not trust the new CA
   yet and would be locked out), unless forced.
3. ``retire``: the previous CA leaves the bundle and its key is deleted. Refused while an
   unexpired, unrevoked certificate it signed is recorded, unless forced.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub import pki
from hub.errors import PkiError

FORMAT = 1
PREPARED = "prepared"
ACTIVE = "active"
PREVIOUS = "previous"
RETIRED = "retired"


@dataclass(frozen=True)
class CaEntry:
    """One CA the hub has had."""

    id: str
    """``ca-<n>``: the file names under DATA_DIR/pki."""
    fingerprint: str
    """``sha256:HEX`` of the CA certificate's DER."""
    status: str
    """prepared, active, previous or retired."""
    created_at: int
    activated_at: int | None = None
    retired_at: int | None = None


@dataclass(frozen=True)
class CaState:
    """``pki/state.json``."""

    cas: tuple[CaEntry, ...]

    def _one(self, status: str) -> CaEntry | None:
        found = [c for c in self.cas if c.status == status]
        return found[-1] if found else None

    @property
    def active(self) -> CaEntry:
        entry = self._one(ACTIVE)
        if entry is None:
            raise PkiError("pki/state.json names no active CA; restore DATA_DIR/pki from backup")
        return entry

    @property
    def prepared(self) -> CaEntry | None:
        return self._one(PREPARED)

    @property
    def previous(self) -> CaEntry | None:
        return self._one(PREVIOUS)

    @property
    def trusted(self) -> list[CaEntry]:
        """The CAs in the bundle, active first."""
        order = {ACTIVE: 0, PREPARED: 1, PREVIOUS: 2}
        return sorted((c for c in self.cas if c.status in order), key=lambda c: order[c.status])

    def replace(self, *entries: CaEntry) -> CaState:
        by_id = {e.id: e for e in entries}
        kept = [by_id.pop(c.id, c) for c in self.cas]
        return CaState((*kept, *by_id.values()))

    def next_id(self) -> str:
        numbers = [int(c.id.split("-")[1]) for c in self.cas if c.id.startswith("ca-")]
        return f"ca-{max(numbers, default=0) + 1}"


def load_state(paths: pki.PkiPaths) -> CaState:
    """The CA state; for a hub that never rotated, its single CA as ``ca-1``."""
    if not paths.state.exists():
        cert = pki.load_ca(paths).cert
        return CaState(
            (
                CaEntry(
                    id="ca-1",
                    fingerprint=pki.cert_fingerprint(cert),
                    status=ACTIVE,
                    created_at=int(cert.not_valid_before_utc.timestamp()),
                    activated_at=int(cert.not_valid_before_utc.timestamp()),
                ),
            )
        )
    try:
        raw = json.loads(paths.state.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise PkiError(
                f"{paths.state} has format {raw.get('format')!r}, this hub reads {FORMAT}; "
                "upgrade iplatform-sync"
            )
        return CaState(tuple(CaEntry(**c) for c in raw["cas"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PkiError(
            f"cannot read {paths.state} ({exc}); restore DATA_DIR/pki from backup"
        ) from exc


def save_state(paths: pki.PkiPaths, state: CaState) -> None:
    data = {"format": FORMAT, "cas": [dataclasses.asdict(c) for c in state.cas]}
    pki.write_atomic(paths.state, (json.dumps(data, indent=2) + "\n").encode())


def _materialise(paths: pki.PkiPaths, state: CaState) -> None:
    """Give the implicit ``ca-1`` of a never-rotated hub its own files."""
    for entry in state.cas:
        if entry.status == ACTIVE and not paths.ca_cert_of(entry.id).exists():
            pki.write_atomic(paths.ca_key_of(entry.id), paths.ca_key.read_bytes(), private=True)
            pki.write_atomic(paths.ca_cert_of(entry.id), paths.ca_cert.read_bytes())


def bundle_pem(paths: pki.PkiPaths, state: CaState) -> bytes:
    out = b""
    for entry in state.trusted:
        path = paths.ca_cert_of(entry.id)
        out += path.read_bytes() if path.exists() else paths.ca_cert.read_bytes()
    return out


def _now(now: int | None) -> int:
    return int(datetime.now(UTC).timestamp()) if now is None else now


def prepare(paths: pki.PkiPaths, trust_domain: str, now: int | None = None) -> CaEntry:
    """Create a new CA and add it to the bundle (it signs nothing yet)."""
    state = load_state(paths)
    if state.prepared is not None:
        raise PkiError(
            f"{state.prepared.id} is already prepared; activate it with 'iplat-hub ca activate'"
        )
    if state.previous is not None:
        raise PkiError(
            f"the previous CA {state.previous.id} is still trusted; finish that rotation first "
            "with 'iplat-hub ca retire'"
        )
    at = _now(now)
    new_id = state.next_id()
    ca = pki.CertificateAuthority.create(
        trust_domain,
        common_name=f"i-Platform CA {trust_domain} ({new_id})",
        now=datetime.fromtimestamp(at, UTC),
    )
    _materialise(paths, state)
    pki.write_atomic(paths.ca_key_of(new_id), ca.key_pem, private=True)
    pki.write_atomic(paths.ca_cert_of(new_id), ca.cert_pem)
    entry = CaEntry(new_id, pki.fingerprint(ca.cert_pem), PREPARED, at)
    state = state.replace(entry)
    # Bundle before state: a crash in between leaves an extra trusted CA, never a missing one.
    pki.write_atomic(paths.bundle, bundle_pem(paths, state))
    save_state(paths, state)
    return entry


def activate(
    paths: pki.PkiPaths, trust_domain: str, hosts: Iterable[str], now: int | None = None
) -> tuple[CaEntry, CaEntry]:
    """Make the prepared CA the signing one and re-issue the server certificate under it.

    Returns (new active, previous).
    """
    state = load_state(paths)
    new = state.prepared
    if new is None:
        raise PkiError("no CA is prepared; run 'iplat-hub ca prepare' first")
    old = state.active
    at = _now(now)
    ca = pki.CertificateAuthority.load(paths.ca_key_of(new.id), paths.ca_cert_of(new.id))
    server = ca.issue_server(trust_domain, hosts, now=datetime.fromtimestamp(at, UTC))
    # The serving hub checks that server.key and server.pem match before it uses them, so
    # reading between these two writes only delays the switch to its next poll.
    pki.write_atomic(paths.server_key, server.key_pem, private=True)
    pki.write_atomic(paths.server_cert, server.cert_pem)
    pki.write_atomic(paths.ca_key, ca.key_pem, private=True)
    pki.write_atomic(paths.ca_cert, ca.cert_pem)
    new = dataclasses.replace(new, status=ACTIVE, activated_at=at)
    old = dataclasses.replace(old, status=PREVIOUS)
    state = state.replace(new, old)
    pki.write_atomic(paths.bundle, bundle_pem(paths, state))
    save_state(paths, state)
    return new, old


def retire(paths: pki.PkiPaths, now: int | None = None) -> CaEntry:
    """Drop the previous CA from the bundle and delete its key. The caller checks first
    that no valid certificate depends on it (``Store.certificates_depending_on``)."""
    state = load_state(paths)
    old = state.previous
    if old is None:
        raise PkiError("no previous CA to retire; 'iplat-hub ca prepare' starts a rotation")
    old = dataclasses.replace(old, status=RETIRED, retired_at=_now(now))
    state = state.replace(old)
    pki.write_atomic(paths.bundle, bundle_pem(paths, state))
    save_state(paths, state)
    # Nothing trusts it any more; a key lying around could only do harm.
    paths.ca_key_of(old.id).unlink(missing_ok=True)
    return old
