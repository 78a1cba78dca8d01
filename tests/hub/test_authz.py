"""Authorization: one table of role -> methods, enforced on every call of a real hub; and
the Authenticator's own checks behind the TLS handshake."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from cryptography import x509

from hub import auth, pki
from hub.revocation import Revocations
from hub.store import RevocationSnapshot
from hub.tls import ServerTls
from proto import bootstrap, grpc_services, identity, pb
from tests.helpers.hubenv import RunningHub, SyncSession, init_hub, running_hub
from tests.helpers.pki import make_csr

CENTER = "KR-MR-0001"
METHODS = (auth.SYNC, auth.GET_NATIONAL_VIEW, auth.ENROLL, auth.RENEW, auth.GET_TRUST_BUNDLE)


def test_the_table() -> None:
    allowed = {
        role: {m for m in METHODS if auth.is_allowed(role, m)}
        for role in ("center", "portal", "operator", "hub", auth.ANONYMOUS)
    }
    assert allowed == {
        "center": {auth.SYNC, auth.RENEW, auth.GET_TRUST_BUNDLE},
        "portal": {auth.GET_NATIONAL_VIEW, auth.RENEW, auth.GET_TRUST_BUNDLE},
        "operator": {auth.GET_NATIONAL_VIEW, auth.RENEW, auth.GET_TRUST_BUNDLE},
        "hub": set(),
        auth.ANONYMOUS: {auth.ENROLL},
    }
    health = "/grpc.health.v1.Health/Check"
    reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    assert auth.is_allowed(auth.ANONYMOUS, health) and auth.is_allowed("portal", health)
    assert auth.is_allowed("portal", reflection) and not auth.is_allowed(auth.ANONYMOUS, reflection)
    # Every service the server registers is covered by the table (nothing open by accident).
    from hub.server import SERVICE_NAMES

    served = {m.split("/")[1] for role in auth.ALLOWED.values() for m in role}
    assert served == set(SERVICE_NAMES)


@dataclass
class _PeerContext:
    """What Authenticator reads from a call: the verified peer certificate (as gRPC gives it)."""

    cert_pem: bytes

    def auth_context(self) -> dict[str, list[bytes]]:
        return {"x509_pem_cert": [self.cert_pem]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("authz") / "hub", centers=[CENTER])
    with running_hub(data_dir) as running:
        yield running


def test_authenticator_trusts_only_the_hubs_cas_and_checks_revocation(hub: RunningHub) -> None:
    tls = ServerTls(hub.config.pki_paths)
    revoked = hub.issue(CENTER)
    revocations = Revocations(
        RevocationSnapshot(seq=1, revoked_serials=frozenset(), banned_centers=frozenset())
    )
    authn = auth.Authenticator("iplatform.local", tls, revocations)
    good = hub.issue("ops", kind="operator")
    caller = authn.caller(_PeerContext(good.cert_pem))  # type: ignore[arg-type]
    assert caller.role == "operator" and caller.identity is not None
    assert caller.serial == pki.serial_hex(good.cert_pem)
    assert authn.caller(_PeerContext(bootstrap.CERT_PEM)).role == auth.ANONYMOUS  # type: ignore[arg-type]
    # Same subject as the hub's CA, other key: a handshake might build a path to it, the
    # issuer signature check does not.
    ca_cert = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
    twin = pki.CertificateAuthority.create("iplatform.local", common_name="x")
    twin_ca = pki.CertificateAuthority(twin._key, ca_cert)  # signs with the wrong key
    forged = twin_ca.issue_key_and_cert(identity.make("iplatform.local", "operator", "ops"))
    with pytest.raises(auth.Unauthenticated, match="not issued by a CA this hub trusts"):
        authn.caller(_PeerContext(forged.cert_pem))  # type: ignore[arg-type]
    revocations.update(
        RevocationSnapshot(
            seq=2,
            revoked_serials=frozenset({pki.serial_hex(revoked.cert_pem)}),
            banned_centers=frozenset(),
        )
    )
    who = authn.caller(_PeerContext(revoked.cert_pem))  # type: ignore[arg-type]
    assert who.identity is not None
    code, details = revocations.refusal(who.identity, who.serial) or (None, "")
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in details
    assert revocations.refusal(caller.identity, caller.serial) is None


async def _call(hub: RunningHub, creds: grpc.ChannelCredentials, method: str) -> grpc.StatusCode:
    try:
        if method == auth.SYNC:
            async with SyncSession(hub.address, creds) as s:
                await s.hello(CENTER)
            return grpc.StatusCode.OK
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            certs = grpc_services.CertificateServiceStub(channel)
            if method == auth.GET_NATIONAL_VIEW:
                await grpc_services.ViewServiceStub(channel).GetNationalView(
                    pb.GetNationalViewRequest(), timeout=10
                )
            elif method == auth.RENEW:
                await certs.RenewCertificate(
                    pb.RenewCertificateRequest(csr_pem=make_csr()[0]), timeout=10
                )
            else:
                await certs.GetTrustBundle(pb.GetTrustBundleRequest(), timeout=10)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize(
    ("kind", "name"), [("center", CENTER), ("portal", "iplatform-web"), ("operator", "ops")]
)
def test_each_role_reaches_exactly_its_methods(hub: RunningHub, kind: str, name: str) -> None:
    creds = hub.credentials(name, kind)
    methods = (auth.SYNC, auth.GET_NATIONAL_VIEW, auth.RENEW, auth.GET_TRUST_BUNDLE)
    got = {m: asyncio.run(_call(hub, creds, m)) for m in methods}
    expected = {
        m: grpc.StatusCode.OK if auth.is_allowed(kind, m) else grpc.StatusCode.PERMISSION_DENIED
        for m in methods
    }
    assert got == expected


def test_renewal_keeps_the_callers_own_identity(hub: RunningHub) -> None:
    csr, _ = make_csr(uris=(f"spiffe://iplatform.local/center/{CENTER}",))

    async def run() -> bytes:
        creds = hub.credentials("iplatform-web", "portal")
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            renewed = await grpc_services.CertificateServiceStub(channel).RenewCertificate(
                pb.RenewCertificateRequest(csr_pem=csr), timeout=10
            )
        return bytes(renewed.certificate_pem)

    cert = x509.load_pem_x509_certificate(asyncio.run(run()))
    assert pki.spiffe_uris(cert) == ["spiffe://iplatform.local/portal/iplatform-web"]


def test_the_bootstrap_credential_is_what_it_claims() -> None:
    cert = x509.load_pem_x509_certificate(bootstrap.CERT_PEM)
    assert pki.cert_fingerprint(cert) == bootstrap.FINGERPRINT
    assert bootstrap.is_bootstrap(bootstrap.CERT_PEM) and not bootstrap.is_bootstrap(b"x")
    # It may not issue anything and is no CA: nothing can chain to it.
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert pki.spiffe_uris(cert) == []
