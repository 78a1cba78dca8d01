"""The hub's certificate authority: CA, server certificate, CSR signing.

Every certificate the hub issues carries exactly one SPIFFE URI SAN
(``spiffe://<trust-domain>/<kind>/<name>``) chosen by the hub, never by the requester:
:meth:`CertificateAuthority.sign_csr` reads only the public key out of a CSR. Keys are
ECDSA P-256 (cheaper TLS handshakes than RSA, see DESIGN.md section 9).

Validity windows are parameters so tests can mint expired or not-yet-valid
certificates, and :meth:`CertificateAuthority.create` makes as many independent CAs as a
test needs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.errors import PkiError
from proto import identity as ident

CA_DAYS = 3650
SERVER_DAYS = 365
AGENT_DAYS = 90
# Issued certificates start slightly in the past so a peer whose clock lags a little
# does not reject a certificate that was just made.
BACKDATE = timedelta(minutes=5)
MIN_RSA_BITS = 2048
_ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyAndCert:
    """A private key and its certificate, both PEM."""

    key_pem: bytes
    """PKCS#8 private key, unencrypted (protected by file mode 0600 on disk)."""
    cert_pem: bytes
    """The certificate."""


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(UTC)


def _load_cert(cert_pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise PkiError(f"not a PEM certificate ({exc}); pass the .pem/.crt file") from exc


def default_hosts() -> list[str]:
    """Names a hub on this machine answers to: loopback plus the host name."""
    hosts = ["localhost", "127.0.0.1", "::1"]
    name = socket.gethostname()
    if name and name not in hosts:
        hosts.append(name)
    return hosts


def _general_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(h.strip() for h in hosts if h.strip()):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


class CertificateAuthority:
    """A CA key and certificate that issue the hub's, agents' and portals' certificates."""

    def __init__(self, key: PrivateKey, cert: x509.Certificate) -> None:
        self._key = key
        self.cert = cert

    @classmethod
    def create(
        cls,
        trust_domain: str,
        *,
        common_name: str | None = None,
        days: int = CA_DAYS,
        now: datetime | None = None,
    ) -> CertificateAuthority:
        """A new self-signed CA for ``trust_domain``, valid ``days`` from ``now``."""
        ident.make(trust_domain, "hub", "hub")  # validates the trust domain
        start = _utc(now)
        key = new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, common_name or f"i-Platform CA {trust_domain}"
                ),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - BACKDATE)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @classmethod
    def load(cls, key_path: Path, cert_path: Path) -> CertificateAuthority:
        try:
            key_data = key_path.read_bytes()
            cert_data = cert_path.read_bytes()
        except OSError as exc:
            raise PkiError(
                f"cannot read the hub CA ({exc}); run 'iplat-hub init' or restore DATA_DIR/pki"
            ) from exc
        try:
            key = serialization.load_pem_private_key(key_data, password=None)
        except ValueError as exc:
            raise PkiError(f"{key_path} is not a PEM private key; restore it from backup") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(
                f"{key_path} is not an EC key; restore the CA key made by 'iplat-hub init'"
            )
        cert = _load_cert(cert_data)
        if cert.public_key() != key.public_key():
            raise PkiError(f"{key_path} does not belong to {cert_path}; restore a matching pair")
        return cls(key, cert)

    @property
    def key_pem(self) -> bytes:
        return key_pem(self._key)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        identity: ident.Identity,
        *,
        not_before: datetime,
        not_after: datetime,
        hosts: Iterable[str] = (),
        server: bool = False,
    ) -> bytes:
        """Sign a leaf certificate for ``identity``; return it as PEM.

        ``hosts`` become DNS/IP SANs (servers only need them); the SPIFFE URI is always added.
        """
        sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(identity.uri)]
        sans += _general_names(hosts)
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, identity.trust_domain),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, identity.kind),
                x509.NameAttribute(NameOID.COMMON_NAME, identity.name),
            ]
        )
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_utc(not_before))
            .not_valid_after(_utc(not_after))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue_key_and_cert(
        self,
        identity: ident.Identity,
        *,
        days: int = AGENT_DAYS,
        now: datetime | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        hosts: Iterable[str] = (),
        server: bool = False,
    ) -> KeyAndCert:
        """A fresh key plus a certificate for it (servers, portals, operators, tests).

        The window defaults to ``now - 5 min .. now + days``; pass ``not_before`` (the
        window then starts there) and/or ``not_after`` to make an expired or not-yet-valid
        certificate.
        """
        begin = _utc(not_before) if not_before else _utc(now) - BACKDATE
        key = new_key()
        cert = self.issue(
            key.public_key(),
            identity,
            not_before=begin,
            not_after=not_after or begin + BACKDATE + timedelta(days=days),
            hosts=hosts,
            server=server,
        )
        return KeyAndCert(key_pem(key), cert)

    def issue_server(
        self,
        trust_domain: str,
        hosts: Iterable[str],
        *,
        days: int = SERVER_DAYS,
        now: datetime | None = None,
    ) -> KeyAndCert:
        """The hub's TLS server certificate: ``hosts`` as SANs plus spiffe://<td>/hub/hub."""
        return self.issue_key_and_cert(
            ident.make(trust_domain, "hub", "hub"), days=days, now=now, hosts=hosts, server=True
        )

    def sign_csr(
        self, csr_pem: bytes, identity: ident.Identity, days: int, now: datetime | None = None
    ) -> bytes:
        """Sign the CSR's public key for ``identity``; return the certificate PEM.

        The CSR's subject and SANs are ignored on purpose: who a certificate speaks for is
        the hub's decision. The CSR must be self-signed by its key (proof of possession)
        and the key must be EC (P-256/384/521) or RSA of at least 2048 bits.
        """
        if days < 1:
            raise PkiError(f"certificate lifetime must be at least 1 day, got {days}")
        public_key = csr_public_key(csr_pem)
        start = _utc(now)
        return self.issue(
            public_key,
            identity,
            not_before=start - BACKDATE,
            not_after=start + timedelta(days=days),
        )

    def verify(self, cert_pem: bytes, now: datetime | None = None) -> x509.Certificate:
        """Return the certificate if this CA issued it and it is valid at ``now``; else PkiError."""
        cert = _load_cert(cert_pem)
        try:
            cert.verify_directly_issued_by(self.cert)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PkiError(
                f"certificate {fingerprint(cert_pem)} was not issued by this hub's CA; "
                "enroll again with this hub"
            ) from exc
        at = _utc(now)
        if at < cert.not_valid_before_utc:
            raise PkiError(
                f"certificate is not valid before {cert.not_valid_before_utc.isoformat()}"
            )
        if at > cert.not_valid_after_utc:
            raise PkiError(
                f"certificate expired on {cert.not_valid_after_utc.isoformat()}; "
                "sign a new CSR with 'iplat-hub center sign'"
            )
        return cert


def csr_public_key(csr_pem: bytes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """The public key of a CSR whose self-signature verifies; PkiError saying what is wrong.

    The signature proves the requester holds the private key (proof of possession); the
    key must be EC (P-256/384/521) or RSA of at least 2048 bits.
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as exc:
        raise PkiError(
            f"not a PEM certificate signing request ({exc}); pass the agent.csr file "
            "written by 'iplat-agent init'"
        ) from exc
    if not csr.is_signature_valid:
        raise PkiError("the CSR's signature does not verify; regenerate it with 'iplat-agent init'")
    public_key = csr.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, _ALLOWED_CURVES):
            raise PkiError(
                f"EC curve {public_key.curve.name} is not accepted; use P-256 (secp256r1)"
            )
        return public_key
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise PkiError(
                f"RSA key of {public_key.key_size} bits is too weak; use ECDSA P-256 "
                f"or RSA >= {MIN_RSA_BITS}"
            )
        return public_key
    raise PkiError(
        f"{type(public_key).__name__} keys are not accepted; use ECDSA P-256 or RSA >= 2048"
    )


def split_pem(bundle: bytes) -> list[bytes]:
    """The PEM certificates in ``bundle``, each as its own PEM block."""
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    out = []
    rest = bundle
    while (start := rest.find(begin)) >= 0:
        stop = rest.find(end, start)
        if stop < 0:
            break
        out.append(rest[start : stop + len(end)] + b"\n")
        rest = rest[stop + len(end) :]
    return out


def load_bundle(bundle: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle; PkiError if there is none or one is unreadable."""
    try:
        certs = x509.load_pem_x509_certificates(bundle)
    except ValueError as exc:
        raise PkiError(f"trust bundle unreadable ({exc}); restore DATA_DIR/pki/bundle.pem") from exc
    return certs


def cert_fingerprint(cert: x509.Certificate) -> str:
    """``sha256:<hex>`` over the certificate's DER encoding."""
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def fingerprint(cert_pem: bytes) -> str:
    """``sha256:<hex>`` over the certificate's DER encoding."""
    der = _load_cert(cert_pem).public_bytes(serialization.Encoding.DER)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def serial_hex(cert_pem: bytes) -> str:
    return format(_load_cert(cert_pem).serial_number, "x")


def not_after_epoch(cert_pem: bytes) -> int:
    return int(_load_cert(cert_pem).not_valid_after_utc.timestamp())


def spiffe_uris(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        u
        for u in san.get_values_for_type(x509.UniformResourceIdentifier)
        if u.startswith("spiffe://")
    ]


def identity_from_cert(cert_pem: bytes) -> ident.Identity:
    """The SPIFFE identity in the certificate's URI SAN; PkiError unless exactly one valid one."""
    uris = spiffe_uris(_load_cert(cert_pem))
    if len(uris) != 1:
        raise PkiError(
            f"certificate has {len(uris)} SPIFFE URI SANs, expected exactly one; "
            "use a certificate issued by 'iplat-hub center sign'"
        )
    try:
        return ident.parse(uris[0])
    except ValueError as exc:
        raise PkiError(f"certificate identity is unusable: {exc}") from exc


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory; 0600 if ``private``.

    The temp file is created 0600 from the start, so a key is never readable by others,
    not even for an instant.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class PkiPaths:
    """Where a hub keeps its TLS material (DATA_DIR/pki)."""

    dir: Path
    """The pki directory."""

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def bundle(self) -> Path:
        return self.dir / "bundle.pem"

    @property
    def server_key(self) -> Path:
        return self.dir / "server.key"

    @property
    def server_cert(self) -> Path:
        return self.dir / "server.pem"

    @property
    def state(self) -> Path:
        """CA rotation state (``hub.ca_rotation``); absent until the first rotation."""
        return self.dir / "state.json"

    def ca_key_of(self, ca_id: str) -> Path:
        return self.dir / f"{ca_id}.key"

    def ca_cert_of(self, ca_id: str) -> Path:
        return self.dir / f"{ca_id}.pem"

    def all(self) -> list[Path]:
        return [self.ca_key, self.ca_cert, self.bundle, self.server_key, self.server_cert]


def init_pki(
    paths: PkiPaths, trust_domain: str, hosts: Iterable[str], *, now: datetime | None = None
) -> CertificateAuthority:
    """Create the CA, trust bundle and server certificate under ``paths.dir``."""
    paths.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = CertificateAuthority.create(trust_domain, now=now)
    server = ca.issue_server(trust_domain, hosts, now=now)
    write_atomic(paths.ca_key, ca.key_pem, private=True)
    write_atomic(paths.ca_cert, ca.cert_pem)
    # The bundle is what agents trust; during a CA rotation it holds old and new CA.
    write_atomic(paths.bundle, ca.cert_pem)
    write_atomic(paths.server_key, server.key_pem, private=True)
    write_atomic(paths.server_cert, server.cert_pem)
    return ca


def load_ca(paths: PkiPaths) -> CertificateAuthority:
    return CertificateAuthority.load(paths.ca_key, paths.ca_cert)
