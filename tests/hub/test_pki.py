from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub import pki
from hub.errors import PkiError
from proto import identity
from tests.helpers.pki import center_identity, make_csr, session_pki

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _uris(cert: x509.Certificate) -> list[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.UniformResourceIdentifier)


def test_sign_csr_ignores_requested_subject_and_sans() -> None:
    tp = session_pki()
    csr, _ = make_csr(common_name="KR-EVIL-0001", uris=("spiffe://iplatform.test/operator/root",))
    who = center_identity("KR-MR-0001")
    cert_pem = tp.ca.sign_csr(csr, who, days=90, now=NOW)
    cert = _cert(cert_pem)
    assert _uris(cert) == ["spiffe://iplatform.test/center/KR-MR-0001"]
    assert pki.identity_from_cert(cert_pem) == who
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "KR-MR-0001"
    assert cert.not_valid_after_utc - NOW == timedelta(days=90)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert tp.ca.verify(cert_pem, now=NOW) is not None


def test_sign_csr_keeps_only_the_public_key_of_the_csr() -> None:
    tp = session_pki()
    key = pki.new_key()
    csr, _ = make_csr(key=key)
    cert = _cert(tp.ca.sign_csr(csr, center_identity("KR-BI-0002"), days=1))
    assert cert.public_key() == key.public_key()


def test_csr_with_broken_signature_is_refused() -> None:
    tp = session_pki()
    csr_pem, _ = make_csr()
    csr = x509.load_pem_x509_csr(csr_pem)
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(PkiError, match="signature does not verify"):
        tp.ca.sign_csr(tampered, center_identity("KR-MR-0001"), days=1)


def _csr_with(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, algorithm)
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def test_weak_or_unsupported_keys_are_refused() -> None:
    tp = session_pki()
    who = center_identity("KR-MR-0001")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(PkiError, match="1024 bits is too weak"):
        tp.ca.sign_csr(_csr_with(weak), who, days=1)
    with pytest.raises(PkiError, match=r"Ed25519.*not accepted"):
        tp.ca.sign_csr(_csr_with(ed25519.Ed25519PrivateKey.generate()), who, days=1)
    strong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert pki.identity_from_cert(tp.ca.sign_csr(_csr_with(strong), who, days=1)) == who


def test_garbage_csr_and_bad_days_are_refused() -> None:
    tp = session_pki()
    with pytest.raises(PkiError, match="not a PEM certificate signing request"):
        tp.ca.sign_csr(b"hello", center_identity("KR-MR-0001"), days=1)
    csr, _ = make_csr()
    with pytest.raises(PkiError, match="at least 1 day"):
        tp.ca.sign_csr(csr, center_identity("KR-MR-0001"), days=0)


def test_expired_and_foreign_certificates_are_detected() -> None:
    tp = session_pki()
    with pytest.raises(PkiError, match="expired"):
        tp.ca.verify(tp.expired_client("center", "KR-MR-0001").cert_pem)
    with pytest.raises(PkiError, match="not issued by this hub's CA"):
        tp.ca.verify(tp.foreign_client("center", "KR-MR-0001").cert_pem)
    future = tp.ca.issue_key_and_cert(
        center_identity("KR-MR-0001"), not_before=NOW + timedelta(days=400)
    )
    with pytest.raises(PkiError, match="not valid before"):
        tp.ca.verify(future.cert_pem, now=NOW)
    tp.ca.verify(tp.client("center", "KR-MR-0001").cert_pem)


def test_fingerprint_and_identity_helpers() -> None:
    tp = session_pki()
    pem = tp.client("portal", "iplatform-web").cert_pem
    fp = pki.fingerprint(pem)
    assert fp.startswith("sha256:") and len(fp) == len("sha256:") + 64
    assert fp == pki.fingerprint(pem) != pki.fingerprint(tp.server.cert_pem)
    assert pki.identity_from_cert(pem) == identity.Identity(
        "iplatform.test", "portal", "iplatform-web"
    )
    # The CA certificate carries no identity at all.
    with pytest.raises(PkiError, match="0 SPIFFE URI SANs"):
        pki.identity_from_cert(tp.ca.cert_pem)
    with pytest.raises(PkiError, match="not a PEM certificate"):
        pki.fingerprint(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_init_pki_lays_out_files_with_private_modes(tmp_path: Path) -> None:
    paths = pki.PkiPaths(tmp_path / "pki")
    pki.init_pki(
        paths, "iplatform.local", ["localhost", "127.0.0.1", "::1", "hub.example.kr"], now=NOW
    )
    for p in (paths.ca_key, paths.server_key):
        assert os.stat(p).st_mode & 0o777 == 0o600
    assert paths.bundle.read_bytes() == paths.ca_cert.read_bytes()
    ca = _cert(paths.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - NOW == timedelta(days=pki.CA_DAYS)
    server = _cert(paths.server_cert.read_bytes())
    assert server.not_valid_after_utc - NOW == timedelta(days=pki.SERVER_DAYS)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "hub.example.kr"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert _uris(server) == ["spiffe://iplatform.local/hub/hub"]
    loaded = pki.load_ca(paths)
    loaded.verify(paths.server_cert.read_bytes(), now=NOW)


def test_load_ca_refuses_a_key_of_another_ca(tmp_path: Path) -> None:
    paths = pki.PkiPaths(tmp_path / "pki")
    pki.init_pki(paths, "iplatform.local", ["localhost"])
    pki.write_atomic(paths.ca_key, session_pki().other_ca.key_pem, private=True)
    with pytest.raises(PkiError, match="does not belong"):
        pki.load_ca(paths)
    paths.ca_key.unlink()
    with pytest.raises(PkiError, match="iplat-hub init"):
        pki.load_ca(paths)
