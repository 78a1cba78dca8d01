"""``iplat-agent enroll`` against a real hub subprocess: the happy path down to a first
sync, the pin refusing a wrong CA before the token leaves, used / expired / other-center
tokens, and re-enrolling a directory whose certificate expired."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import ssl
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from agent import enroll, pki
from agent.config import load_config
from hub import pki as hub_pki
from proto import grpc_services, identity, pb
from tests.helpers import hubenv
from tests.helpers.agentenv import (
    FAST_SYNC,
    AgentDir,
    equipment_row,
    hub_records,
    new_center_id,
    run_agent_cli,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.pki import make_csr
from tests.helpers.wait import eventually

_TOKEN = re.compile(r"ipt_([0-9a-f]{16})\.[A-Za-z0-9_-]{43}")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = hubenv.init_hub(tmp_path_factory.mktemp("hub"))
    with hubenv.running_hub(data_dir) as running:
        yield running


def token_for(hub: RunningHub, center: str, *, register: bool = True) -> str:
    """``iplat-hub token create`` for ``center`` (registered first); the token string."""
    if register:
        hubenv.add_center(hub.data_dir, center)
    code, out = hubenv.run_cli(
        "token", "create", "--center", center, "--data-dir", str(hub.data_dir)
    )
    assert code == 0, out
    found = _TOKEN.search(out)
    assert found, out
    return found.group(0)


def pin_of(hub: RunningHub) -> str:
    return hub_pki.fingerprint(hub.config.pki_paths.ca_cert.read_bytes())


def run_enroll(
    hub: RunningHub, directory: Path, token: str, *extra: str, pin: str | None = None
) -> tuple[int, str, str]:
    return run_agent_cli(
        "enroll", "--hub", hub.address, "--token", token,
        "--ca-fingerprint", pin or pin_of(hub), "--dir", str(directory), *extra,
    )  # fmt: skip


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_enroll_writes_key_certificate_bundle_config_and_syncs(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    directory = tmp_path / "agent"
    code, out, err = run_enroll(hub, directory, token_for(hub, center), "--center", center)
    assert code == 0, err

    key_path, cert_path = directory / "agent.key", directory / "agent.crt"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = _cert(cert_path)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert pki.same_public_key(cert, key)  # type: ignore[arg-type]
    uri = pki.center_identity(cert, cert_path)
    assert uri == f"spiffe://{hub.config.trust_domain}/center/{center}"
    bundle = [pki.fingerprint(c) for c in x509.load_pem_x509_certificates(
        (directory / "ca.pem").read_bytes())]  # fmt: skip
    assert pin_of(hub) in bundle
    config = load_config(directory / "agent.toml")
    assert (config.center_id, config.hub) == (center, hub.address)
    assert (directory / "equipment.csv").exists() and (directory / "calendar.csv").exists()
    assert not list(directory.glob("*.new")) and not list(directory.glob(".*.tmp"))
    assert f"enrolled center {center}" in out
    assert "iplat-agent check --config" in out and "iplat-agent run --config" in out

    # The certificate is good for real: check passes, and the agent syncs with it.
    code, out, _ = run_agent_cli("check", "--config", str(directory / "agent.toml"))
    assert code == 0, out
    ad = AgentDir(directory, center)
    ad.set_sync(**FAST_SYNC)
    ad.write_equipment([equipment_row("EQ-1")])
    with running_agent(ad):
        eventually(lambda: set(hub_records(hub, center)) == {"EQ-1"}, timeout=30)


def test_identity_comes_from_the_token_not_from_the_csr(hub: RunningHub) -> None:
    center = new_center_id()
    token = token_for(hub, center)
    trust_domain = hub.config.trust_domain
    csr, _ = make_csr(
        common_name="KR-OTHER-0001", uris=(f"spiffe://{trust_domain}/center/KR-OTHER-0001",)
    )
    chain = enroll.presented_chain(hub.address)
    ca = enroll.pinned_ca(hub.address, pin_of(hub), chain)
    response = enroll._call_enroll(
        hub.address, ca.public_bytes(serialization.Encoding.PEM), token, csr, 30
    )
    assert response.identity_uri == f"spiffe://{trust_domain}/center/{center}"
    cert = x509.load_pem_x509_certificate(response.certificate_pem)
    assert pki.center_identity(cert, "issued") == response.identity_uri


def test_wrong_ca_fingerprint_is_refused_before_the_token_is_sent(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    token = token_for(hub, center)
    impostor = hub_pki.CertificateAuthority.create("iplatform.local", common_name="impostor")
    wrong = hub_pki.fingerprint(impostor.cert_pem)
    code, _, err = run_enroll(hub, tmp_path / "a", token, pin=wrong)
    assert code == 4, err
    assert f"the hub presented a CA with fingerprint {pin_of(hub)}, expected {wrong}" in err
    assert "check the fingerprint with the hub operator; do not continue" in err
    assert not (tmp_path / "a" / "agent.key").exists()
    assert not (tmp_path / "a" / "agent.crt").exists()
    # The token never reached the hub: it still works.
    code, _, err = run_enroll(hub, tmp_path / "b", token)
    assert code == 0, err


def test_a_used_token_is_refused_with_the_hubs_reason(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    token = token_for(hub, center)
    assert run_enroll(hub, tmp_path / "first", token)[0] == 0
    code, _, err = run_enroll(hub, tmp_path / "second", token)
    assert code == 3, err
    assert "already used" in err
    assert f"iplat-hub token create --center {center}" in err
    assert "run iplat-agent enroll again with the new token" in err
    assert not (tmp_path / "second" / "agent.crt").exists()
    assert not (tmp_path / "second" / "agent.key").exists()


def test_an_expired_token_is_refused(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    token = token_for(hub, center)
    token_id = _TOKEN.match(token).group(1)  # type: ignore[union-attr]
    db = hub.config.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
        changed = conn.execute(
            "UPDATE enrollment_tokens SET expires_at = ? WHERE id = ?", (past, token_id)
        ).rowcount
    assert changed == 1
    code, _, err = run_enroll(hub, tmp_path / "agent", token)
    assert code == 3, err
    assert "expired" in err and f"iplat-hub token create --center {center}" in err
    assert not (tmp_path / "agent" / "agent.crt").exists()


def test_a_token_for_another_center_is_refused_and_nothing_is_written(
    hub: RunningHub, tmp_path: Path
) -> None:
    center, other = new_center_id(), new_center_id()
    code, _, err = run_enroll(hub, tmp_path / "agent", token_for(hub, center), "--center", other)
    assert code == 1, err
    assert f"this token is for center {center}, not {other} (--center)" in err
    assert f"iplat-hub token create --center {other}" in err
    assert not (tmp_path / "agent" / "agent.crt").exists()
    assert not (tmp_path / "agent" / "agent.key").exists()
    assert not (tmp_path / "agent" / "agent.toml").exists()


def test_an_agent_whose_certificate_expired_follows_its_message_and_is_back(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    hubenv.add_center(hub.data_dir, center)
    directory = tmp_path / "agent"
    code, _, err = run_agent_cli(
        "init", "--center", center, "--hub", hub.address, "--dir", str(directory)
    )
    assert code == 0, err
    # Signed long ago, expired yesterday (the center was offline past its renewal).
    csr = x509.load_pem_x509_csr((directory / "agent.csr").read_bytes())
    now = datetime.now(UTC)
    ca = hub_pki.load_ca(hub.config.pki_paths)
    (directory / "agent.crt").write_bytes(
        ca.issue(
            csr.public_key(),  # type: ignore[arg-type]
            identity.make(hub.config.trust_domain, "center", center),
            not_before=now - timedelta(days=91),
            not_after=now - timedelta(days=1),
        )
    )
    (directory / "ca.pem").write_bytes(hub.bundle_path.read_bytes())
    old_key = (directory / "agent.key").read_bytes()
    code, out, _ = run_agent_cli("check", "--config", str(directory / "agent.toml"))
    assert code == 1 and "certificate expired on" in out
    assert f"iplat-agent enroll --hub {hub.address}" in out and f"--dir {directory}" in out

    config_before = (directory / "agent.toml").read_text()
    code, out, err = run_enroll(hub, directory, token_for(hub, center, register=False))
    assert code == 0, err
    assert (directory / "agent.toml").read_text() == config_before  # kept
    assert (directory / "agent.key").read_bytes() != old_key  # a new key
    code, out, _ = run_agent_cli("check", "--config", str(directory / "agent.toml"))
    assert code == 0, out


class _Tls12Only:
    """The ssl module as agent.enroll sees it, but offering TLS 1.2 at most."""

    def __getattr__(self, name: str) -> object:
        return getattr(ssl, name)

    @staticmethod
    def SSLContext(protocol: int) -> ssl.SSLContext:  # stands in for the class
        context = ssl.SSLContext(protocol)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


def test_the_probe_reads_the_chain_under_tls_1_2_too(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe has no client certificate yet; under TLS 1.2 the hub ends the handshake for
    # want of one, but only after its chain arrived.
    handshakes: list[str | None] = []
    real_chain = enroll._unverified_chain

    def spy(sock: ssl.SSLSocket) -> list[bytes]:
        handshakes.append(sock.version())
        return real_chain(sock)

    monkeypatch.setattr(enroll, "ssl", _Tls12Only())
    monkeypatch.setattr(enroll, "_unverified_chain", spy)
    chain = enroll.presented_chain(hub.address)
    assert enroll.pinned_ca(hub.address, pin_of(hub), chain) in chain
    assert None in handshakes  # the handshake did not complete: the TLS 1.2 path was taken


def test_after_a_ca_rotation_enrollment_pins_the_new_ca(tmp_path: Path) -> None:
    data_dir = hubenv.init_hub(tmp_path / "hub")
    with hubenv.running_hub(data_dir) as hub:
        old_ca_pem = hub.config.pki_paths.ca_cert.read_bytes()
        for step in ("prepare", "activate"):
            code, out = hubenv.run_cli("ca", step, "--data-dir", str(data_dir))
            assert code == 0, out
        new_pin = pin_of(hub)
        assert new_pin != hub_pki.fingerprint(old_ca_pem)
        eventually(
            lambda: new_pin in [pki.fingerprint(c) for c in enroll.presented_chain(hub.address)],
            timeout=15,
            what="the hub serving its certificate of the new CA",
        )
        center = new_center_id()
        code, _, err = run_enroll(hub, tmp_path / "agent", token_for(hub, center), pin=new_pin)
        assert code == 0, err
        new_ca = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
        _cert(tmp_path / "agent" / "agent.crt").verify_directly_issued_by(new_ca)

        # Once the old CA is retired, a bootstrap credential derived from it is refused.
        code, out = hubenv.run_cli("ca", "retire", "--data-dir", str(data_dir))
        assert code == 0, out
        agent_dir = tmp_path / "agent"
        creds = hubenv.credentials(
            (agent_dir / "ca.pem").read_bytes(),
            hub_pki.KeyAndCert(
                (agent_dir / "agent.key").read_bytes(), (agent_dir / "agent.crt").read_bytes()
            ),
        )

        async def served_cas() -> int:
            async with grpc.aio.secure_channel(hub.address, creds) as channel:
                answer = await grpc_services.CertificateServiceStub(channel).GetTrustBundle(
                    pb.GetTrustBundleRequest(), timeout=10
                )
            return len(hub_pki.load_bundle(answer.trust_bundle_pem))

        eventually(lambda: asyncio.run(served_cas()) == 1, timeout=15, what="old CA retired")
        token = token_for(hub, new_center_id())
        bundle = hub.bundle_path.read_bytes()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            asyncio.run(hubenv.enroll(hub.address, bundle, token, ca_pem=old_ca_pem))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        # The handshake failed before the token was sent: it still enrolls.
        assert asyncio.run(hubenv.enroll(hub.address, bundle, token)).identity_uri
