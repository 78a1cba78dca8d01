"""agent.pki: key + CSR at the center, and the checks made before dialing the hub."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from agent import pki
from agent.config import TlsConfig
from agent.errors import PkiError
from hub import pki as hub_pki
from tests.helpers.pki import TestPki, center_identity, session_pki

CENTER = "KR-MR-0001"


def _enroll(
    tmp_path: Path,
    test_pki: TestPki,
    center: str = CENTER,
    days: int = 30,
    now: datetime | None = None,
) -> TlsConfig:
    """init + hub signature, as an operator would do it."""
    pki.create_key_and_csr(tmp_path, CENTER)
    csr = (tmp_path / pki.CSR_FILE).read_bytes()
    cert = test_pki.ca.sign_csr(csr, center_identity(center), days, now=now)
    (tmp_path / pki.CERT_FILE).write_bytes(cert)
    (tmp_path / pki.CA_FILE).write_bytes(test_pki.bundle)
    return TlsConfig(
        key=tmp_path / pki.KEY_FILE, cert=tmp_path / pki.CERT_FILE, ca=tmp_path / pki.CA_FILE
    )


def test_key_is_private_p256_and_csr_names_the_center(tmp_path: Path) -> None:
    key_path, csr_path = pki.create_key_and_csr(tmp_path, CENTER)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.curve.name == "secp256r1"  # type: ignore[union-attr]
    csr = x509.load_pem_x509_csr(csr_path.read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CENTER
    assert b"PRIVATE" not in csr_path.read_bytes()


def test_existing_key_is_kept_unless_forced(tmp_path: Path) -> None:
    key_path, _ = pki.create_key_and_csr(tmp_path, CENTER)
    before = key_path.read_bytes()
    with pytest.raises(PkiError, match="--force"):
        pki.create_key_and_csr(tmp_path, CENTER)
    assert key_path.read_bytes() == before
    pki.create_key_and_csr(tmp_path, CENTER, force=True)
    assert key_path.read_bytes() != before
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_signed_material_loads(tmp_path: Path) -> None:
    tls = _enroll(tmp_path, session_pki(), days=30)
    material = pki.load_tls(tls, CENTER)
    assert material.identity == center_identity(CENTER).uri
    assert material.not_after > datetime.now(UTC) + timedelta(days=29)
    assert not material.expires_soon(datetime.now(UTC))
    assert material.expires_soon(datetime.now(UTC) + timedelta(days=20))


def test_missing_certificate_says_how_to_get_one(tmp_path: Path) -> None:
    tls = _enroll(tmp_path, session_pki())
    tls.cert.unlink()
    with pytest.raises(PkiError, match=r"missing: send agent.csr .*center sign"):
        pki.load_tls(tls, CENTER)


def test_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    tls = _enroll(tmp_path, session_pki())
    pki.create_key_and_csr(tmp_path, CENTER, force=True)  # key replaced after signing
    with pytest.raises(PkiError, match="does not belong to the key"):
        pki.load_tls(tls, CENTER)


def test_expired_certificate_is_refused(tmp_path: Path) -> None:
    tls = _enroll(tmp_path, session_pki(), days=10, now=datetime.now(UTC) - timedelta(days=20))
    with pytest.raises(PkiError, match="expired"):
        pki.load_tls(tls, CENTER)


def test_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    test_pki = session_pki()
    tls = _enroll(tmp_path, test_pki)
    tls.ca.write_bytes(test_pki.other_ca.cert_pem)
    with pytest.raises(PkiError, match="not issued by any CA"):
        pki.load_tls(tls, CENTER)


def test_certificate_for_another_center_is_refused(tmp_path: Path) -> None:
    tls = _enroll(tmp_path, session_pki(), center="KR-MR-0002")
    with pytest.raises(PkiError, match=r"KR-MR-0002.*center_id = 'KR-MR-0001'"):
        pki.load_tls(tls, CENTER)


def test_ca_bundle_with_several_cas_is_accepted(tmp_path: Path) -> None:
    test_pki = session_pki()
    tls = _enroll(tmp_path, test_pki)
    tls.ca.write_bytes(test_pki.other_ca.cert_pem + test_pki.bundle)  # during CA rotation
    assert pki.load_tls(tls, CENTER).identity.endswith("/center/KR-MR-0001")


def test_open_key_permissions_are_reported(tmp_path: Path) -> None:
    key_path, _ = pki.create_key_and_csr(tmp_path, CENTER)
    assert pki.key_mode_problem(key_path) is None
    key_path.chmod(0o644)
    assert "chmod 600" in (pki.key_mode_problem(key_path) or "")


def test_hub_and_agent_agree_on_key_format(tmp_path: Path) -> None:
    # The hub signs whatever public key the CSR holds; make sure it reads ours.
    _, csr_path = pki.create_key_and_csr(tmp_path, CENTER)
    cert = session_pki().ca.sign_csr(csr_path.read_bytes(), center_identity(CENTER), 1)
    assert hub_pki.fingerprint(cert)
