"""The agent's key, certificate signing request, and the TLS material it dials the hub with.

The private key (ECDSA P-256) is made at the center and never leaves the agent dir: the
hub signs its CSR (offline with ``iplat-hub center sign``, online through
``iplat-agent enroll`` or a renewal) and hands back ``agent.crt`` plus the CA bundle
``ca.pem``. The hub takes the center identity from the URI SAN it writes into the
certificate, so the CSR's subject is informational only.

A new key and certificate replace the old pair through :func:`install_key_and_cert`: both
are written completely beside the old ones first, then renamed into place, so a crash at
any instant leaves either the old pair or the new one (:func:`finish_interrupted_install`
completes a half-done swap at the next start).

:func:`load_tls` reads and cross-checks the three files before any network traffic, so
a wrong, expired or mismatched file is reported as what it is instead of as an opaque
TLS handshake failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.config import TlsConfig
from agent.errors import CertificateExpiredError, PkiError
from proto import identity

KEY_FILE = "agent.key"
CSR_FILE = "agent.csr"
CERT_FILE = "agent.crt"
CA_FILE = "ca.pem"
# `check` warns this long before the certificate expires, so renewal is not an outage.
EXPIRY_WARNING = timedelta(days=14)
# Suffix of a new key/certificate written beside the current one before the swap.
PENDING_SUFFIX = ".new"
_FINGERPRINT = re.compile(r"^sha256:([0-9a-f]{64})$")


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_csr(key: ec.EllipticCurvePrivateKey, center_id: str) -> bytes:
    """A PEM CSR with subject CN = ``center_id`` (the hub decides the real identity)."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, center_id)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory, then rename.

    The temp file gets ``mode`` before any byte is written, so a private key is never
    readable by others, not even for an instant; the rename is synced to disk too.
    """
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


def create_key_and_csr(
    directory: Path, center_id: str, *, force: bool = False
) -> tuple[Path, Path]:
    """Make ``agent.key`` (0600) and ``agent.csr`` in ``directory``; return their paths.

    Refuses to replace an existing key unless ``force``: the key may already have a
    signed certificate, and replacing it silently would cut the center off the hub.
    """
    key_path, csr_path = directory / KEY_FILE, directory / CSR_FILE
    if key_path.exists() and not force:
        raise PkiError(
            f"{key_path} already exists; keeping it (its certificate may be in use). "
            "To make a new key and CSR anyway, run init again with --force"
        )
    key = generate_key()
    write_atomic(key_path, key_pem(key), mode=0o600)
    write_atomic(csr_path, make_csr(key, center_id))
    return key_path, csr_path


def fingerprint(cert: x509.Certificate) -> str:
    """``sha256:<hex>`` over the certificate's DER encoding (the form hub operators hand out)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def parse_fingerprint(text: str) -> str:
    """Normalize ``sha256:HEX`` (any case, ``:`` or spaces between bytes allowed).

    Raises ValueError saying what the value should look like.
    """
    raw = text.strip().lower()
    algo, sep, digits = raw.partition(":")
    if not sep or algo != "sha256":
        raise ValueError(
            f"{text!r} is not a sha256 fingerprint: write it as the hub operator gave it, "
            "e.g. sha256:3f9a... (64 hex digits)"
        )
    normal = "sha256:" + re.sub(r"[\s:]", "", digits)
    if not _FINGERPRINT.match(normal):
        raise ValueError(
            f"{text!r} is not a sha256 fingerprint: after 'sha256:' come exactly 64 hex "
            "digits; copy it again from the hub operator"
        )
    return normal


def is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def same_public_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)


def pending_path(path: Path) -> Path:
    return path.with_name(path.name + PENDING_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable: they are only once its entry is on disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def install_key_and_cert(key_path: Path, cert_path: Path, key: bytes, cert: bytes) -> None:
    """Replace the key/certificate pair so that a crash never leaves a mismatched pair.

    Both new files are written (and synced) next to the old ones first; only then are they
    renamed into place, key first. The old pair stays usable until that moment.
    """
    key_new, cert_new = pending_path(key_path), pending_path(cert_path)
    write_atomic(key_new, key, mode=0o600)
    write_atomic(cert_new, cert)
    os.replace(key_new, key_path)
    os.replace(cert_new, cert_path)
    for directory in {key_path.parent, cert_path.parent}:
        fsync_dir(directory)


def finish_interrupted_install(key_path: Path, cert_path: Path) -> bool:
    """Complete (or discard) a key/certificate swap a crash interrupted; True if completed.

    A pending certificate is complete by construction (it was renamed from its temp file
    after the pending key), so it is installed when it belongs to the pending key, or to
    the current key when the key was already renamed. Anything else is a leftover and is
    removed.
    """
    key_new, cert_new = pending_path(key_path), pending_path(cert_path)
    if not cert_new.exists():
        key_new.unlink(missing_ok=True)
        return False
    key_source = key_new if key_new.exists() else key_path
    try:
        key = serialization.load_pem_private_key(key_source.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_new.read_bytes())
    except (OSError, ValueError, TypeError):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not same_public_key(cert, key):
        key_new.unlink(missing_ok=True)
        cert_new.unlink(missing_ok=True)
        return False
    if key_source == key_new:
        os.replace(key_new, key_path)
    os.replace(cert_new, cert_path)
    for directory in {key_path.parent, cert_path.parent}:
        fsync_dir(directory)
    return True


def reenroll_hint(center_id: str, hub: str, directory: Path) -> str:
    """What to do when the certificate can no longer be renewed online."""
    return (
        f"ask the hub operator for a new token (iplat-hub token create --center {center_id}) "
        f"and run iplat-agent enroll --hub {hub} --token TOKEN --ca-fingerprint FINGERPRINT "
        f"--dir {directory} (the operator gives the token and the CA fingerprint)"
    )


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes gRPC needs, after they were checked against each other."""

    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes
    not_after: datetime
    """When the agent certificate expires (UTC)."""
    identity: str
    """The SPIFFE URI the hub wrote into the certificate."""
    not_before: datetime | None = None
    """When the agent certificate became valid (UTC); the renewal point is measured from it."""

    def expires_soon(self, now: datetime) -> bool:
        return self.not_after - now < EXPIRY_WARNING


def _read(path: Path, what: str, fix: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"{what} {path} is missing: {fix}") from None
    except OSError as exc:
        raise PkiError(
            f"cannot read {what} {path}: {exc.strerror}; check its permissions"
        ) from None


def load_tls(
    tls: TlsConfig, center_id: str, now: datetime | None = None, *, hub: str = "HOST:PORT"
) -> TlsMaterial:
    """Read key, certificate and CA bundle; raise PkiError naming the first problem and its fix.

    ``hub`` (agent.toml's ``hub``) only completes the re-enrollment command in messages.
    """
    now = now or datetime.now(UTC)
    sign_hint = (
        "send agent.csr to the hub operator "
        f"(iplat-hub center sign agent.csr --center {center_id}) "
        "and put the returned agent.crt and ca.pem next to agent.toml, or "
        + reenroll_hint(center_id, hub, Path(tls.cert).parent)
    )
    key_bytes = _read(Path(tls.key), "private key", "run `iplat-agent init` to make one")
    cert_bytes = _read(Path(tls.cert), "certificate", sign_hint)
    ca_bytes = _read(Path(tls.ca), "CA bundle", sign_hint)

    try:
        key = serialization.load_pem_private_key(key_bytes, password=None)
    except (ValueError, TypeError) as exc:
        raise PkiError(
            f"{tls.key} is not an unencrypted PEM private key ({exc}); "
            "run `iplat-agent init --force` to make a new key and get it signed again"
        ) from None
    try:
        cert = x509.load_pem_x509_certificate(cert_bytes)
    except ValueError:
        raise PkiError(f"{tls.cert} is not a PEM certificate: {sign_hint}") from None
    try:
        cas = x509.load_pem_x509_certificates(ca_bytes)
    except ValueError:
        raise PkiError(
            f"{tls.ca} is not a PEM CA bundle: ask the hub operator for ca.pem"
        ) from None

    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if cert.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        raise PkiError(
            f"{tls.cert} does not belong to the key {tls.key} (was the key replaced after "
            f"signing?): {sign_hint}"
        )
    if not any(issued_by(cert, ca) for ca in cas):
        raise PkiError(
            f"{tls.cert} was not issued by any CA in {tls.ca}: ask the hub operator for the "
            "current ca.pem (bundle.pem on the hub)"
        )
    if cert.not_valid_after_utc <= now:
        # Typically the center was offline past the renewal point: online renewal needs a
        # valid certificate, so only a new enrollment helps.
        raise CertificateExpiredError(
            f"certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC "
            f"({tls.cert}): " + reenroll_hint(center_id, hub, Path(tls.cert).parent),
            not_after=cert.not_valid_after_utc,
        )
    if cert.not_valid_before_utc > now:
        raise PkiError(
            f"{tls.cert} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: "
            "check this machine's clock (NTP)"
        )
    uri = center_identity(cert, tls.cert)
    parsed = identity.parse(uri)
    if parsed.kind != "center" or parsed.name != center_id:
        raise PkiError(
            f"{tls.cert} was issued to {uri}, but agent.toml says center_id = {center_id!r}: "
            f"fix center_id, or have the certificate signed with --center {center_id}"
        )
    return TlsMaterial(
        key_pem=key_bytes,
        cert_pem=cert_bytes,
        ca_pem=ca_bytes,
        not_after=cert.not_valid_after_utc,
        identity=uri,
        not_before=cert.not_valid_before_utc,
    )


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def center_identity(cert: x509.Certificate, path: Path | str) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        san = None
    uris = [] if san is None else san.value.get_values_for_type(x509.UniformResourceIdentifier)
    for uri in uris:
        if uri.startswith("spiffe://"):
            return uri
    raise PkiError(
        f"{path} carries no spiffe:// identity, so it was not signed by the hub: "
        "have it signed with iplat-hub center sign"
    )


def key_mode_problem(path: Path) -> str | None:
    """Why the key file's permissions are too open, or None."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return f"{path} is readable by other users (mode {mode:o}): run chmod 600 {path}"
    return None
