"""EnrollmentService.Enroll on a real hub process: token in, certificate out, on the same
port as Sync, for callers presenting only a bootstrap credential (anyone can mint one)."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub import config, pki, token_format
from hub.server import HubServer
from hub.store import Store
from proto import bootstrap, grpc_services, identity, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    add_center,
    create_token,
    enroll,
    equipment_change,
    init_hub,
    running_hub,
)
from tests.helpers.pki import make_csr

_ids = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("enroll") / "hub")
    # This module's failures all come from 127.0.0.1; the brake has its own test below.
    hubenv.set_config(data_dir, "max_failures", 1000)
    with running_hub(data_dir) as running:
        yield running


@pytest.fixture
def center(hub: RunningHub) -> str:
    center_id = f"KR-EN-{next(_ids):04d}"
    add_center(hub.data_dir, center_id)
    return center_id


def _bundle(hub: RunningHub) -> bytes:
    return hub.bundle_path.read_bytes()


def _refusal(
    hub: RunningHub, token: str, csr_pem: bytes | None = None
) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        asyncio.run(enroll(hub.address, _bundle(hub), token, csr_pem))
    return err.value.code(), err.value.details() or ""


def test_enroll_issues_the_tokens_identity_and_the_certificate_syncs(
    hub: RunningHub, center: str
) -> None:
    issued = create_token(hub.data_dir, center)
    # The CSR asks for another identity; the hub must take the identity from the token.
    csr, key = make_csr(common_name="root", uris=("spiffe://iplatform.local/operator/root",))

    async def run() -> tuple[hubenv.Enrolled, int]:
        enrolled = await enroll(hub.address, _bundle(hub), issued["token"], csr, key)
        async with SyncSession(hub.address, enrolled.credentials()) as s:
            await s.hello(center)
            ack = await s.batch(center, 0, [equipment_change(center, 1, "EQ-1")])
        return enrolled, ack.applied

    enrolled, applied = asyncio.run(run())
    assert applied == 1
    assert enrolled.identity_uri == f"spiffe://iplatform.local/center/{center}"
    cert = x509.load_pem_x509_certificate(enrolled.key_and_cert.cert_pem)
    assert pki.spiffe_uris(cert) == [enrolled.identity_uri]
    assert enrolled.bundle == _bundle(hub)
    assert abs(enrolled.not_after - (time.time() + 90 * 86400)) < 600
    with Store.open(hub.config.database_url) as store:
        [recorded] = store.list_issued("center", center)
        [token] = store.list_tokens("center", center)
    assert recorded.serial == pki.serial_hex(enrolled.key_and_cert.cert_pem)
    assert recorded.ca_fingerprint == issued["ca_fingerprint"]
    assert token.used_at is not None and token.cert_serial == recorded.serial


def test_a_token_works_once_and_the_refusal_says_what_to_do(hub: RunningHub, center: str) -> None:
    token = create_token(hub.data_dir, center)["token"]
    asyncio.run(enroll(hub.address, _bundle(hub), token))
    code, details = _refusal(hub, token)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "already used" in details
    assert f"iplat-hub token create --center {center}" in details


def test_unknown_malformed_wrong_secret_and_expired_tokens_are_denied(
    hub: RunningHub, center: str
) -> None:
    real = create_token(hub.data_dir, center)["token"]
    token_id = real.split(".")[0]
    expired, info = token_format.new_token("center", center, 60, int(time.time()) - 3600)
    with Store.open(hub.config.database_url) as store:
        store.create_token(info)
    cases = {
        "unknown": ("ipt_0123456789abcdef." + "A" * 43, "not recognised"),
        "malformed": ("hello", "not an enrollment token"),
        "wrong secret": (f"{token_id}.{'B' * 43}", "not recognised"),
        "expired": (expired, "expired at"),
    }
    for name, (token, words) in cases.items():
        code, details = _refusal(hub, token)
        assert code == grpc.StatusCode.PERMISSION_DENIED, name
        assert words in details and "iplat-hub token create" in details, (name, details)
    # None of this used up the real token.
    assert asyncio.run(enroll(hub.address, _bundle(hub), real)).identity_uri.endswith(center)


def test_a_csr_with_a_bad_signature_is_refused_and_keeps_the_token(
    hub: RunningHub, center: str
) -> None:
    token = create_token(hub.data_dir, center)["token"]
    csr_pem, _ = make_csr()
    der = bytearray(x509.load_pem_x509_csr(csr_pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    forged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    code, details = _refusal(hub, token, forged)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "signature does not verify" in details and "nothing was used up" in details
    assert asyncio.run(enroll(hub.address, _bundle(hub), token)).identity_uri.endswith(center)


def test_concurrent_enrolls_with_one_token_exactly_one_wins(hub: RunningHub, center: str) -> None:
    token = create_token(hub.data_dir, center)["token"]

    async def run() -> list[hubenv.Enrolled | BaseException]:
        return await asyncio.gather(
            *(enroll(hub.address, _bundle(hub), token) for _ in range(8)), return_exceptions=True
        )

    results = asyncio.run(run())
    won = [r for r in results if isinstance(r, hubenv.Enrolled)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 7, results
    assert {e.code() for e in lost} == {grpc.StatusCode.PERMISSION_DENIED}
    with Store.open(hub.config.database_url) as store:
        [recorded] = store.list_issued("center", center)
    assert recorded.serial == pki.serial_hex(won[0].key_and_cert.cert_pem)


def test_bootstrap_caller_may_only_enroll_and_check_health(hub: RunningHub, center: str) -> None:
    creds = hubenv.bootstrap_credentials(_bundle(hub))

    async def run() -> dict[str, tuple[grpc.StatusCode, str]]:
        out: dict[str, tuple[grpc.StatusCode, str]] = {}
        async with SyncSession(hub.address, creds) as s:
            # Refused before any message is read; a write racing the refusal can turn its
            # status into INTERNAL in grpc.aio (grpc/grpc#36066), so none is sent.
            out["sync"] = await s.status()
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            calls = {
                "view": grpc_services.ViewServiceStub(channel).GetNationalView(
                    pb.GetNationalViewRequest()
                ),
                "bundle": grpc_services.CertificateServiceStub(channel).GetTrustBundle(
                    pb.GetTrustBundleRequest()
                ),
                "renew": grpc_services.CertificateServiceStub(channel).RenewCertificate(
                    pb.RenewCertificateRequest(csr_pem=make_csr()[0])
                ),
            }
            for name, call in calls.items():
                try:
                    await call
                    out[name] = (grpc.StatusCode.OK, "")
                except grpc.aio.AioRpcError as exc:
                    out[name] = (exc.code(), exc.details() or "")
            from grpc_health.v1 import health_pb2, health_pb2_grpc

            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            out["health"] = (grpc.StatusCode.OK, str(health.status))
        return out

    results = asyncio.run(run())
    for name in ("sync", "view", "bundle", "renew"):
        code, details = results[name]
        assert code == grpc.StatusCode.UNAUTHENTICATED, (name, results[name])
        assert "this method needs a client certificate" in details
    assert results["health"] == (grpc.StatusCode.OK, "1")


def _bootstrap_ca(ca_pem: bytes) -> pki.CertificateAuthority:
    """The bootstrap CA of ``ca_pem``, as anyone can rebuild it (its key is public)."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    der = ca.public_bytes(serialization.Encoding.DER)
    return pki.CertificateAuthority(bootstrap.derive_ca_key(der), bootstrap.ca_certificate(ca))


async def _view_status(address: str, creds: grpc.ChannelCredentials) -> tuple[grpc.StatusCode, str]:
    async with grpc.aio.secure_channel(address, creds) as channel:
        try:
            await grpc_services.ViewServiceStub(channel).GetNationalView(
                pb.GetNationalViewRequest(), timeout=10
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def test_a_bootstrap_issued_certificate_is_anonymous_whatever_it_names(hub: RunningHub) -> None:
    # The bootstrap CA's key is public: TLS accepts what it signs, the hub gives it no identity.
    boot = _bootstrap_ca(hub.config.pki_paths.ca_cert.read_bytes())
    forged = boot.issue_key_and_cert(identity.make(hub.config.trust_domain, "operator", "ops"))
    creds = hubenv.credentials(_bundle(hub), forged)
    code, details = asyncio.run(_view_status(hub.address, creds))
    assert code == grpc.StatusCode.UNAUTHENTICATED, details
    assert "this method needs a client certificate" in details


def test_a_bootstrap_credential_of_another_hubs_ca_fails_the_handshake(
    hub: RunningHub, center: str
) -> None:
    token = create_token(hub.data_dir, center)["token"]
    other = pki.CertificateAuthority.create(hub.config.trust_domain, common_name="other hub")
    cert_pem, key_pem = bootstrap.client_credential(
        other.cert.public_bytes(serialization.Encoding.DER)
    )
    creds = grpc.ssl_channel_credentials(_bundle(hub), key_pem, cert_pem)

    async def run() -> tuple[grpc.StatusCode, str]:
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            try:
                await grpc_services.EnrollmentServiceStub(channel).Enroll(
                    pb.EnrollRequest(token=token, csr_pem=make_csr()[0]), timeout=10
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code(), exc.details() or ""
        return grpc.StatusCode.OK, ""

    code, details = asyncio.run(run())
    assert code == grpc.StatusCode.UNAVAILABLE, details
    # The token was never seen: it still enrolls, with this hub's own bootstrap credential.
    enrolled = asyncio.run(enroll(hub.address, _bundle(hub), token))
    assert enrolled.identity_uri.endswith(f"/center/{center}")


def test_handshake_shows_the_ca_the_install_command_pins(hub: RunningHub, center: str) -> None:
    fingerprint = create_token(hub.data_dir, center)["ca_fingerprint"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # nothing is trusted yet: the fingerprint decides
    # No client certificate (its bootstrap CA is what the pin will find); with TLS 1.3 the
    # client's side of the handshake completes before the hub refuses that.
    ctx.set_alpn_protocols(["h2"])
    host, port = hub.address.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as sock,
        ctx.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        chain = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    seen = ["sha256:" + hashlib.sha256(c.public_bytes(2)).hexdigest() for c in chain]
    assert fingerprint in seen[1:]


def test_repeated_failures_from_one_address_are_braked(tmp_path: Path) -> None:
    data_dir = init_hub(tmp_path / "hub", centers=["KR-MR-0001"])
    hubenv.set_config(data_dir, "failure_window_seconds", 2)
    good = create_token(data_dir, "KR-MR-0001")["token"]
    cfg = config.load(data_dir)

    async def run() -> tuple[list[grpc.StatusCode], str, str]:
        server = HubServer(cfg, listen="127.0.0.1:0")
        address = await server.start()
        bundle = cfg.pki_paths.bundle.read_bytes()
        codes = []
        try:
            for i in range(7):
                try:
                    await enroll(address, bundle, f"ipt_{i:016x}." + "C" * 43)
                except grpc.aio.AioRpcError as exc:
                    codes.append(exc.code())
            # Braked now even with the right token...
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await enroll(address, bundle, good)
            braked = err.value.details() or ""
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

            # ...until the window has passed.
            async def works() -> str:
                try:
                    return (await enroll(address, bundle, good)).identity_uri
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                    return ""

            from tests.helpers.wait import aeventually

            uri = await aeventually(works, timeout=10, interval=0.2, what="brake released")
            return codes, braked, uri
        finally:
            await server.shutdown()

    codes, braked, uri = asyncio.run(run())
    assert (
        codes == [grpc.StatusCode.PERMISSION_DENIED] * 5 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
    )
    assert "too many failed enrollment attempts" in braked and "retry in" in braked
    assert uri.endswith("/center/KR-MR-0001")
