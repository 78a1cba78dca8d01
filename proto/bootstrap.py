"""The bootstrap credential: the client certificate a caller presents before it has one.

The hub serves enrollment on the same port as Sync (one outbound port through a center's
firewall), like SPIRE serves node attestation beside its SVID API. That needs a TLS server
that *requests* a client certificate, verifies it when one is presented, and still lets a
caller without one reach ``EnrollmentService/Enroll``. grpcio for Python cannot express
that: ``require_client_auth=False`` means "do not ask for a certificate at all"
(``GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE``), so the hub would lose every caller's
identity.

So the hub requires a client certificate from everyone and trusts, beside its own CAs, one
"bootstrap CA" per CA of its trust bundle. A bootstrap CA's key is *derived from the hub
CA's certificate* (:func:`derive_ca_key`: HKDF-SHA256 over the certificate's DER), and
that certificate is public: every caller sees it in the TLS handshake, and an enrolling
agent pins it by fingerprint anyway. So anyone who can reach the hub can derive the key and
mint a bootstrap client certificate (:func:`client_credential`). That is the point, and it
is exactly as public as a published key would be; no key material lives in the repository.

A bootstrap certificate proves nothing about its holder. The hub (:mod:`hub.auth`) treats
every certificate issued by a bootstrap CA (:func:`is_bootstrap_issued`) as anonymous,
whatever names or SPIFFE URIs it carries: it may call only Enroll, where the one-time token
is the credential, and health checks. Every other certificate must be issued directly by
one of the hub's own CAs. A bootstrap CA may not sign CAs (path length 0), and a bootstrap
certificate derived from another hub's CA fails this hub's TLS handshake.

The hub builds its bootstrap CA certificates in memory (:func:`ca_certificate`, never on
disk); an agent, once it has pinned the hub's CA, mints a short-lived client certificate::

    cert_pem, key_pem = bootstrap.client_credential(pinned_ca_der)
    creds = grpc.ssl_channel_credentials(pinned_ca_pem, key_pem, cert_pem)

Never change :data:`SALT`, :data:`INFO` or the names: every hub and every agent must agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SALT = b"iplatform-sync"
INFO = b"bootstrap-ca v1"
CLIENT_LIFETIME = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)

# Order of the P-256 group: private scalars lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


@lru_cache(maxsize=32)
def derive_ca_key(ca_der: bytes) -> ec.EllipticCurvePrivateKey:
    """The bootstrap CA key of the hub CA whose certificate is ``ca_der`` (public by design).

    HKDF-SHA256(ikm=ca_der, salt=SALT, info=INFO), 48 bytes, reduced into [1, n-1] of
    P-256 (the 128 extra bits make the reduction's bias negligible).
    """
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=SALT, info=INFO).derive(ca_der)
    scalar = int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def ca_subject(ca_der: bytes) -> x509.Name:
    """``CN=iplatform-sync bootstrap <first 16 hex of the hub CA's sha256 fingerprint>``."""
    short = hashlib.sha256(ca_der).hexdigest()[:16]
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"iplatform-sync bootstrap {short}")])


@lru_cache(maxsize=32)
def _ca_certificate(ca_der: bytes) -> x509.Certificate:
    ca = x509.load_der_x509_certificate(ca_der)
    key = derive_ca_key(ca_der)
    name = ca_subject(ca_der)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(hashlib.sha256(INFO + ca_der).digest()[:16], "big") >> 1)
        .not_valid_before(ca.not_valid_before_utc)
        .not_valid_after(ca.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign_certs=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def ca_certificate(ca: x509.Certificate) -> x509.Certificate:
    """The self-signed bootstrap CA certificate of hub CA ``ca`` (built once per CA).

    Same validity as ``ca``; the hub adds it to the roots client certificates may chain to.
    """
    return _ca_certificate(ca.public_bytes(serialization.Encoding.DER))


def client_credential(ca_der: bytes, now: datetime | None = None) -> tuple[bytes, bytes]:
    """A fresh key and a bootstrap client certificate for the hub CA ``ca_der``: PEM (cert, key).

    Valid for :data:`CLIENT_LIFETIME` (from :data:`CLOCK_SKEW` ago); no identity in it.
    """
    ca_key = derive_ca_key(ca_der)
    key = ec.generate_private_key(ec.SECP256R1())
    start = now or datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bootstrap client")]))
        .issuer_name(ca_subject(ca_der))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - CLOCK_SKEW)
        .not_valid_after(start + CLIENT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign_certs=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def is_bootstrap_issued(cert: x509.Certificate, ca_certs: Iterable[x509.Certificate]) -> bool:
    """True if ``cert`` was signed by the bootstrap CA of one of ``ca_certs`` (the hub's CAs)."""
    for ca in ca_certs:
        ca_der = ca.public_bytes(serialization.Encoding.DER)
        if cert.issuer != ca_subject(ca_der):
            continue
        try:
            cert.verify_directly_issued_by(_ca_certificate(ca_der))
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False
