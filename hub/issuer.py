"""Issuing certificates with the active CA: one place for Enroll, RenewCertificate,
``iplat-hub center sign`` and ``iplat-hub client add``.

The identity is always the caller's decision (a token's, the operator's, or the renewing
peer's own certificate); only the public key comes from the CSR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub import pki
from hub.config import HubConfig
from hub.errors import PkiError
from proto import identity as ident


@dataclass(frozen=True)
class IssuedCert:
    cert_pem: bytes
    serial: str
    """Lower-case hex."""
    not_after: int
    ca_fingerprint: str
    """The CA that signed it."""


def lifetime_days(config: HubConfig, kind: str) -> int:
    return config.pki.agent_cert_days if kind == "center" else config.pki.client_cert_days


def issue(
    config: HubConfig,
    csr_pem: bytes,
    who: ident.Identity,
    *,
    days: int | None = None,
    now: float | None = None,
) -> IssuedCert:
    """Sign the CSR's public key for ``who`` with the active CA (``pki/ca.key``).

    Raises PkiError for a bad CSR or unreadable CA files (e.g. read in the middle of
    ``iplat-hub ca activate``: the caller may retry).
    """
    ca = pki.load_ca(config.pki_paths)
    at = datetime.fromtimestamp(now, UTC) if now is not None else None
    cert_pem = ca.sign_csr(csr_pem, who, days or lifetime_days(config, who.kind), now=at)
    return IssuedCert(
        cert_pem=cert_pem,
        serial=pki.serial_hex(cert_pem),
        not_after=pki.not_after_epoch(cert_pem),
        ca_fingerprint=pki.cert_fingerprint(ca.cert),
    )


def trust_bundle(config: HubConfig) -> bytes:
    try:
        return config.pki_paths.bundle.read_bytes()
    except OSError as exc:
        raise PkiError(
            f"cannot read {config.pki_paths.bundle} ({exc}); restore DATA_DIR/pki"
        ) from exc
