"""Test certificates built on hub.pki: a session CA, server and client certificates.

``session_pki()`` is made once per test process (CA and key generation are the slow
part); tests that need a hub data dir of their own use ``write_hub_pki``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub import pki
from proto import identity

TRUST_DOMAIN = "iplatform.test"


def center_identity(center_id: str, trust_domain: str = TRUST_DOMAIN) -> identity.Identity:
    return identity.make(trust_domain, "center", center_id)


def make_csr(
    *,
    common_name: str = "agent",
    uris: tuple[str, ...] = (),
    key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """A CSR (and its key PEM) asking for whatever subject/URIs the caller wants."""
    key = key or pki.new_key()
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    if uris:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]),
            critical=False,
        )
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM), pki.key_pem(key)


@dataclass
class TestPki:
    """A CA with its server certificate, plus a foreign CA for negative tests."""

    __test__ = False  # not a pytest test class

    trust_domain: str
    ca: pki.CertificateAuthority
    server: pki.KeyAndCert
    other_ca: pki.CertificateAuthority
    _clients: dict[tuple[str, str], pki.KeyAndCert] = field(default_factory=dict)

    @property
    def bundle(self) -> bytes:
        return self.ca.cert_pem

    def client(self, kind: str, name: str) -> pki.KeyAndCert:
        """A valid client certificate for spiffe://<td>/<kind>/<name> (cached)."""
        key = (kind, name)
        if key not in self._clients:
            who = identity.make(self.trust_domain, kind, name)
            self._clients[key] = self.ca.issue_key_and_cert(who, days=1)
        return self._clients[key]

    def expired_client(self, kind: str, name: str) -> pki.KeyAndCert:
        now = datetime.now(UTC)
        who = identity.make(self.trust_domain, kind, name)
        return self.ca.issue_key_and_cert(
            who, not_before=now - timedelta(days=10), not_after=now - timedelta(days=1)
        )

    def foreign_client(self, kind: str, name: str) -> pki.KeyAndCert:
        """Same identity, signed by a CA the hub does not trust."""
        who = identity.make(self.trust_domain, kind, name)
        return self.other_ca.issue_key_and_cert(who, days=1)


def make_pki(trust_domain: str = TRUST_DOMAIN) -> TestPki:
    ca = pki.CertificateAuthority.create(trust_domain)
    server = ca.issue_server(trust_domain, ["localhost", "127.0.0.1", "::1"])
    other = pki.CertificateAuthority.create(trust_domain, common_name="impostor CA")
    return TestPki(trust_domain, ca, server, other)


@cache
def session_pki() -> TestPki:
    """One TestPki per test process."""
    return make_pki()


def write_hub_pki(test_pki: TestPki, pki_dir: Path) -> pki.PkiPaths:
    """Lay out ``test_pki`` as a hub's DATA_DIR/pki."""
    paths = pki.PkiPaths(pki_dir)
    pki.write_atomic(paths.ca_key, test_pki.ca.key_pem, private=True)
    pki.write_atomic(paths.ca_cert, test_pki.ca.cert_pem)
    pki.write_atomic(paths.bundle, test_pki.ca.cert_pem)
    pki.write_atomic(paths.server_key, test_pki.server.key_pem, private=True)
    pki.write_atomic(paths.server_cert, test_pki.server.cert_pem)
    return paths
