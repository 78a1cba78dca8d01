"""agent.rotation and the key/certificate swap without a hub: when renewals happen, how a
crash in the middle of a swap is repaired, which bundles are stored, and what an agent
with an expired certificate says (check, status, run)."""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from agent import pki
from agent.config import load_config
from agent.errors import CertificateExpiredError, PkiError
from agent.rotation import (
    RENEW_FROM,
    RENEW_TO,
    RETRY_MAX_SECONDS,
    RETRY_MIN_SECONDS,
    Rotator,
    draw_fraction,
    renewal_point,
    retry_delay,
)
from agent.state import AgentState
from tests.helpers.agentenv import REPO, AgentDir, run_agent_cli
from tests.helpers.pki import TestPki, center_identity, session_pki

CENTER = "KR-MR-0001"
HUB = "hub.example.kr:7443"


def _agent_dir(
    tmp_path: Path, not_before: datetime, not_after: datetime, test_pki: TestPki | None = None
) -> AgentDir:
    """``init``, then the CSR's key certified by the test CA for [not_before, not_after]."""
    test_pki = test_pki or session_pki()
    directory = tmp_path / "agent"
    code, _, err = run_agent_cli("init", "--center", CENTER, "--hub", HUB, "--dir", str(directory))
    assert code == 0, err
    csr = x509.load_pem_x509_csr((directory / pki.CSR_FILE).read_bytes())
    cert = test_pki.ca.issue(
        csr.public_key(),  # type: ignore[arg-type]
        center_identity(CENTER),
        not_before=not_before,
        not_after=not_after,
    )
    (directory / pki.CERT_FILE).write_bytes(cert)
    (directory / pki.CA_FILE).write_bytes(test_pki.bundle)
    return AgentDir(directory, CENTER)


# -- when -------------------------------------------------------------------------------


def test_renewal_point_is_drawn_between_65_and_75_percent_of_the_lifetime() -> None:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=90)
    points = [renewal_point(start, end, draw_fraction(rng)) for _ in range(2000)]
    assert min(points) >= start + timedelta(days=90 * RENEW_FROM)
    assert max(points) <= start + timedelta(days=90 * RENEW_TO)
    # Spread over the window, not bunched: thousands of agents must not renew together.
    assert max(points) - min(points) > timedelta(days=8.5)
    assert len({p.replace(microsecond=0) for p in points}) > 1900


def test_retry_delay_grows_and_stays_bounded() -> None:
    rng = random.Random(1)
    short = [retry_delay(25, n, rng) for n in range(1, 4)]
    assert all(RETRY_MIN_SECONDS / 2 <= d <= 4 for d in short)
    long = [retry_delay(90 * 86400, n, rng) for n in range(1, 20)]
    assert all(d <= RETRY_MAX_SECONDS for d in long)
    assert max(long) > RETRY_MAX_SECONDS / 2


def test_the_plan_is_fixed_per_certificate_and_redrawn_for_a_new_one(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ad = _agent_dir(tmp_path, now - timedelta(days=1), now + timedelta(days=9))
    config = load_config(ad.config)
    rotator = Rotator(config, lambda: None, rng=random.Random(3))
    material = pki.load_tls(config.tls, CENTER)
    first = rotator.renew_at(material)
    assert all(rotator.renew_at(material) == first for _ in range(20))
    assert now + timedelta(days=5.5) <= first <= now + timedelta(days=6.5)
    other = _agent_dir(tmp_path / "2", now - timedelta(days=1), now + timedelta(days=19))
    config2 = load_config(other.config)
    second = rotator.renew_at(pki.load_tls(config2.tls, CENTER))
    assert second != first and second > now + timedelta(days=11)


# -- the swap ---------------------------------------------------------------------------


def _pair(test_pki: TestPki) -> tuple[bytes, bytes]:
    kc = test_pki.client("center", CENTER)
    return kc.key_pem, kc.cert_pem


def _new_pair() -> tuple[bytes, bytes]:
    kc = session_pki().ca.issue_key_and_cert(center_identity(CENTER), days=1)
    return kc.key_pem, kc.cert_pem


def test_install_replaces_both_files_keeps_the_key_private_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    key, cert = tmp_path / "agent.key", tmp_path / "agent.crt"
    old = _pair(session_pki())
    pki.install_key_and_cert(key, cert, *old)
    new = _new_pair()
    pki.install_key_and_cert(key, cert, *new)
    assert (key.read_bytes(), cert.read_bytes()) == new
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.crt", "agent.key"]
    assert pki.finish_interrupted_install(key, cert) is False


@pytest.mark.parametrize("key_renamed", [False, True])
def test_a_swap_interrupted_after_both_files_were_written_is_completed(
    tmp_path: Path, key_renamed: bool
) -> None:
    key, cert = tmp_path / "agent.key", tmp_path / "agent.crt"
    old, new = _pair(session_pki()), _new_pair()
    pki.install_key_and_cert(key, cert, *old)
    # What a crash leaves: both pending files written, the key renamed or not yet.
    pki.write_atomic(pki.pending_path(key), new[0], mode=0o600)
    pki.write_atomic(pki.pending_path(cert), new[1])
    if key_renamed:
        os.replace(pki.pending_path(key), key)
    assert pki.finish_interrupted_install(key, cert) is True
    assert (key.read_bytes(), cert.read_bytes()) == new
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not pki.pending_path(key).exists() and not pki.pending_path(cert).exists()


def test_a_swap_interrupted_before_the_certificate_was_written_keeps_the_old_pair(
    tmp_path: Path,
) -> None:
    key, cert = tmp_path / "agent.key", tmp_path / "agent.crt"
    old, new = _pair(session_pki()), _new_pair()
    pki.install_key_and_cert(key, cert, *old)
    pki.write_atomic(pki.pending_path(key), new[0], mode=0o600)
    assert pki.finish_interrupted_install(key, cert) is False
    assert (key.read_bytes(), cert.read_bytes()) == old
    assert not pki.pending_path(key).exists()


def test_a_pending_certificate_of_another_key_is_discarded(tmp_path: Path) -> None:
    key, cert = tmp_path / "agent.key", tmp_path / "agent.crt"
    old = _pair(session_pki())
    pki.install_key_and_cert(key, cert, *old)
    pki.write_atomic(pki.pending_path(cert), _new_pair()[1])
    assert pki.finish_interrupted_install(key, cert) is False
    assert (key.read_bytes(), cert.read_bytes()) == old
    assert not pki.pending_path(cert).exists()


# -- trust bundles ----------------------------------------------------------------------


def test_a_new_bundle_is_written_atomically_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    test_pki = session_pki()
    ad = _agent_dir(tmp_path, now - timedelta(hours=1), now + timedelta(days=1))
    config = load_config(ad.config)
    rotator = Rotator(config, lambda: None)
    both = test_pki.ca.cert_pem + test_pki.other_ca.cert_pem
    assert rotator.store_bundle(both) is True
    assert config.tls.ca.read_bytes() == both
    assert rotator.store_bundle(both) is False  # unchanged: not rewritten
    for bad in (b"not pem", b"", test_pki.client("center", CENTER).cert_pem):
        with pytest.raises(PkiError, match=r"kept the current ca\.pem"):
            rotator.store_bundle(bad)
    assert config.tls.ca.read_bytes() == both
    assert [p.name for p in ad.dir.glob(".ca.pem*")] == []


# -- an expired certificate -------------------------------------------------------------


def _expired(tmp_path: Path) -> AgentDir:
    now = datetime.now(UTC)
    return _agent_dir(tmp_path, now - timedelta(days=91), now - timedelta(days=1))


def test_expired_certificate_says_how_to_reenroll(tmp_path: Path) -> None:
    ad = _expired(tmp_path)
    config = load_config(ad.config)
    with pytest.raises(CertificateExpiredError) as exc:
        pki.load_tls(config.tls, CENTER, hub=HUB)
    text = str(exc.value)
    assert text.startswith("certificate expired on ")
    assert (
        f"ask the hub operator for a new token (iplat-hub token create --center {CENTER})" in text
    )
    assert f"iplat-agent enroll --hub {HUB} --token TOKEN" in text
    assert f"--dir {ad.dir}" in text


def test_check_and_status_report_the_expired_certificate(tmp_path: Path) -> None:
    ad = _expired(tmp_path)
    code, out, _ = ad.cli("check")
    assert code == 1
    assert "FAIL certificates: certificate expired on" in out
    assert "iplat-hub token create --center KR-MR-0001" in out

    # Never ran: status still says why it cannot run, plus that it never ran.
    code, _, err = ad.cli("status")
    assert code == 1
    assert "certificate expired on" in err and "has not run yet" in err

    AgentState(ad.state_path, CENTER).close()
    code, out, _ = ad.cli("status")
    assert code == 0
    assert "CERTIFICATE  certificate expired on" in out
    code, out, _ = ad.cli("status", "--json")
    certificate = json.loads(out)["certificate"]
    assert certificate["not_after"] and "iplat-agent enroll" in certificate["problem"]


def test_status_shows_a_valid_certificate_expiry(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ad = _agent_dir(tmp_path, now - timedelta(hours=1), now + timedelta(days=30))
    AgentState(ad.state_path, CENTER).close()
    code, out, _ = ad.cli("status")
    assert code == 0
    assert "certificate  valid until" in out
    assert json.loads(ad.cli("status", "--json")[1])["certificate"]["problem"] is None


def test_run_with_an_expired_certificate_exits_non_zero_and_says_what_to_do(
    tmp_path: Path,
) -> None:
    ad = _expired(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "agent", "run", "--config", str(ad.config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1, done.stderr
    assert "iplat-agent run: error: certificate expired on" in done.stderr
    assert "iplat-hub token create --center KR-MR-0001" in done.stderr
    assert f"iplat-agent enroll --hub {HUB}" in done.stderr
    assert "Traceback" not in done.stderr
