"""Authorization: one table of role -> methods, enforced on every call of a real hub; and
the Authenticator's own checks behind the TLS handshake."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub import auth, pki
from hub.revocation import Revocations
from hub.store import RevocationSnapshot
from hub.tls import ServerTls
from proto import bootstrap, grpc_services, identity, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import RunningHub, SyncSession, init_hub, running_hub
from tests.helpers.pki import make_csr, session_pki

CENTER = "KR-MR-0001"
# x of the bootstrap CA public key derived from b"iplatform-sync test vector" (HKDF-SHA256,
# salt b"iplatform-sync", info b"bootstrap-ca v1", 48 bytes mod n-1, plus 1).
_KNOWN_X = "2ba5eba7953c2687f745553e44ed185fd7e325a2a0c06bd85ce78c528b8b9678"
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
    ca_cert = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
    boot_pem, _ = bootstrap.client_credential(ca_cert.public_bytes(Encoding.DER))
    assert authn.caller(_PeerContext(boot_pem)).role == auth.ANONYMOUS  # type: ignore[arg-type]
    # Same subject as the hub's CA, other key: a handshake might build a path to it, the
    # issuer signature check does not.
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


def _bootstrap_ca(ca_cert: x509.Certificate) -> pki.CertificateAuthority:
    """The bootstrap CA of ``ca_cert``, as anyone can rebuild it (its key is public)."""
    der = ca_cert.public_bytes(Encoding.DER)
    return pki.CertificateAuthority(bootstrap.derive_ca_key(der), bootstrap.ca_certificate(ca_cert))


def test_a_bootstrap_issued_certificate_is_anonymous_whatever_it_names(hub: RunningHub) -> None:
    authn = auth.Authenticator("iplatform.local", ServerTls(hub.config.pki_paths))
    ca_cert = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
    boot = _bootstrap_ca(ca_cert)
    for kind, name in (("center", CENTER), ("operator", "ops"), ("hub", "hub")):
        forged = boot.issue_key_and_cert(identity.make("iplatform.local", kind, name))
        caller = authn.caller(_PeerContext(forged.cert_pem))  # type: ignore[arg-type]
        assert (caller.role, caller.identity, caller.serial) == (auth.ANONYMOUS, None, "")
    # The bootstrap CA of another hub's CA is nothing here (its handshake fails too).
    other = pki.CertificateAuthority.create("iplatform.local", common_name="other hub")
    foreign = _bootstrap_ca(other.cert).issue_key_and_cert(
        identity.make("iplatform.local", "center", CENTER)
    )
    with pytest.raises(auth.Unauthenticated, match="not issued by a CA this hub trusts"):
        authn.caller(_PeerContext(foreign.cert_pem))  # type: ignore[arg-type]


def test_a_bootstrap_issued_center_certificate_may_not_sync(hub: RunningHub) -> None:
    ca_cert = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
    forged = _bootstrap_ca(ca_cert).issue_key_and_cert(
        identity.make("iplatform.local", "center", CENTER)
    )
    creds = hubenv.credentials(hub.bundle_path.read_bytes(), forged)

    async def run() -> tuple[grpc.StatusCode, str]:
        async with SyncSession(hub.address, creds) as s:
            # Read the status without writing: a write racing the refusal can turn the
            # status into INTERNAL in grpc.aio (grpc/grpc#36066).
            return await s.status()

    code, details = asyncio.run(run())
    assert code == grpc.StatusCode.UNAUTHENTICATED, details
    assert "this method needs a client certificate" in details


def test_the_bootstrap_credential_is_derived_from_the_ca_and_names_nobody() -> None:
    test_pki = session_pki()
    ca, other = test_pki.ca.cert, test_pki.other_ca.cert
    ca_der = ca.public_bytes(Encoding.DER)
    # Another CA, another key.
    assert (
        bootstrap.derive_ca_key(ca_der).public_key()
        != bootstrap.derive_ca_key(other.public_bytes(Encoding.DER)).public_key()
    )
    # Pinned: hubs and agents of different versions must agree on the derivation.
    known = bootstrap.derive_ca_key(b"iplatform-sync test vector").public_key().public_numbers()
    assert format(known.x, "064x") == _KNOWN_X
    root = bootstrap.ca_certificate(ca)
    assert root.subject == root.issuer == bootstrap.ca_subject(ca_der)
    assert root.subject.rfc4514_string().endswith(pki.cert_fingerprint(ca)[7:23])
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    assert (root.not_valid_before_utc, root.not_valid_after_utc) == (
        ca.not_valid_before_utc,
        ca.not_valid_after_utc,
    )
    cert_pem, key_pem = bootstrap.client_credential(ca_der)
    leaf = x509.load_pem_x509_certificate(cert_pem)
    leaf.verify_directly_issued_by(root)
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert pki.spiffe_uris(leaf) == []
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(hours=2)
    assert bootstrap.is_bootstrap_issued(leaf, [other, ca])
    assert not bootstrap.is_bootstrap_issued(leaf, [other])
    hub_issued = x509.load_pem_x509_certificate(test_pki.client("center", CENTER).cert_pem)
    assert not bootstrap.is_bootstrap_issued(hub_issued, [ca, other])
    assert key_pem != bootstrap.client_credential(ca_der)[1]  # a fresh key every time
