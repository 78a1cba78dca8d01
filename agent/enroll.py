"""Enrollment with a one-time token: ``iplat-agent enroll``.

The hub operator hands out a token (``iplat-hub token create --center ID``) and the
fingerprint of the hub's CA. The agent then:

1. makes its key here (ECDSA P-256); the key never leaves the agent dir;
2. opens a TLS connection to the hub that trusts nothing, only to read the certificate
   chain the hub presents (no token is sent on it);
3. picks the certificate whose sha256 fingerprint equals the pin (from that chain, or from
   a bundle already in the agent dir, e.g. one the operator copied there) and checks that
   the hub's certificate chains to it; otherwise it stops before the token leaves the
   machine (:class:`PinMismatchError`): there is no trust on first use;
4. dials gRPC trusting only that CA and calls ``EnrollmentService.Enroll(token, CSR)``,
   presenting a bootstrap certificate minted here for the pinned CA
   (:mod:`proto.bootstrap`: its issuing key is derived from the CA's public certificate,
   so anyone reaching the hub could mint one): the hub requires a client certificate from
   everyone and lets a bootstrap holder call only Enroll;
5. checks the answer (certificate for our key, a center identity, issued by the bundle)
   and returns an :class:`Enrollment`; :func:`install` writes key, certificate and bundle.

The hub decides the center from the token, never from the CSR.

:func:`rpc_failure` is the one translation of ``grpc.RpcError`` for the unary calls of the
agent (Enroll here, RenewCertificate in :mod:`agent.rotation`).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from agent import pki
from agent.config import TlsConfig
from agent.errors import (
    ConfigError,
    PinMismatchError,
    PkiError,
    RefusedError,
    SyncError,
    TokenRefusedError,
)
from agent.version import __version__
from proto import bootstrap, grpc_services, identity, limits, pb

PROBE_TIMEOUT_SECONDS = 10.0
ENROLL_TIMEOUT_SECONDS = 30.0
# Longest chain walked from the hub's certificate to the pinned CA (leaf, intermediates).
MAX_CHAIN_DEPTH = 4
MAX_TOKEN_LENGTH = 1024

# Statuses with which the hub says no to the request itself: asking again will not help.
_REFUSED = {
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
}
# Words in gRPC's connect errors that point at certificates rather than the network.
_TLS_WORDS = ("ssl", "tls", "handshake", "certificate", "hostname", "verif", "alert", "x509")


@dataclass(frozen=True)
class Enrollment:
    """What the hub issued, checked, not yet written."""

    center_id: str
    """The center the token was for (from the certificate's identity)."""
    identity: str
    """The SPIFFE URI in the certificate."""
    key_pem: bytes
    """The key made here (PKCS#8 PEM)."""
    cert_pem: bytes
    cert_not_after: datetime
    bundle_pem: bytes
    """The hub's trust bundle, always containing the pinned CA."""
    ca_fingerprint: str
    """The pinned CA's fingerprint (normalized)."""


# -- the one RpcError translation of the unary calls ----------------------------------------


def rpc_failure(
    exc: grpc.RpcError,
    *,
    hub: str,
    action: str,
    refused_hint: str,
    refused: type[RefusedError] = RefusedError,
) -> SyncError:
    """The agent's error for a unary call (``action``) that ended with ``exc``."""
    code: grpc.StatusCode | None = exc.code() if hasattr(exc, "code") else None
    details = ((exc.details() if hasattr(exc, "details") else "") or "").strip() or "no details"
    name = code.name if code is not None else "UNKNOWN"
    if code in _REFUSED:
        return refused(f"the hub refused {action}: {details}. {refused_hint}", code=name)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return RefusedError(
            f"hub {hub} does not offer {action} (UNIMPLEMENTED): it runs an older version; "
            "ask the hub operator to upgrade it",
            code=name,
        )
    if code == grpc.StatusCode.UNAVAILABLE:
        hint = "check that the hub runs and that outbound TCP to it is allowed; then try again"
        if any(word in details.lower() for word in _TLS_WORDS):
            hint = (
                "the TLS handshake failed: check that the hub's certificate names the host "
                "you dial (and is issued by its CA)"
            )
        return SyncError(f"hub {hub} unavailable for {action}: {details}; {hint}", code=name)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return SyncError(
            f"hub {hub} did not answer {action} in time; it may be overloaded: try again",
            code=name,
        )
    return SyncError(f"{action} with hub {hub} failed ({name}): {details}", code=name)


# -- argument checks --------------------------------------------------------------------


def split_hub(hub: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) -> (host, port); ConfigError saying how to write it."""
    host, sep, port = hub.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--hub {hub!r} is not HOST:PORT; write e.g. --hub hub.example.kr:7443")
    return host.removeprefix("[").removesuffix("]"), int(port)


def check_token(token: str) -> str:
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise ConfigError(
            "the token is empty or malformed: copy it exactly as the hub operator gave it "
            "(iplat-hub token create prints it on one line)"
        )
    return token


# -- pinning ----------------------------------------------------------------------------


def presented_chain(hub: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> list[x509.Certificate]:
    """The certificates the hub presents in its TLS handshake, leaf first, NOT verified.

    Nothing else is sent on this connection; the caller trusts a certificate of it only
    after the fingerprint pin matched.
    """
    host, port = split_hub(hub)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Deliberately no verification: we only read what the hub shows; the pin decides.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    # No client certificate: the bootstrap one needs the CA this probe is to find. The hub
    # requires one, so it ends the handshake; with TLS 1.3 only after ours completed, with
    # TLS 1.2 before, but after its chain arrived, which is all this probe reads.
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False) as tls,
        ):
            try:
                tls.do_handshake()
            except ssl.SSLError:
                if not _unverified_chain(tls):
                    raise
            ders = _unverified_chain(tls)
    except ssl.SSLError as exc:
        raise SyncError(
            f"TLS handshake with hub {hub} failed ({exc.reason or exc}): check that {hub} is "
            "the hub's gRPC address (HOST:PORT from the hub operator)",
            code="UNAVAILABLE",
        ) from None
    except OSError as exc:
        raise SyncError(
            f"cannot reach hub {hub} ({exc.strerror or exc}): check the address and that "
            "outbound TCP to it is allowed from this machine; then try again",
            code="UNAVAILABLE",
        ) from None
    if not ders:
        raise SyncError(
            f"hub {hub} presented no certificate: is {hub} the hub's gRPC address?",
            code="UNAVAILABLE",
        )
    return [x509.load_der_x509_certificate(der) for der in ders]


def _unverified_chain(sock: ssl.SSLSocket) -> list[bytes]:
    """DER certificates the peer sent, leaf first (verified or not)."""
    public = getattr(sock, "get_unverified_chain", None)
    if public is not None:  # Python 3.13+
        chain: Any = public()
    else:  # Python 3.11/3.12 have it on the private SSL object only
        chain = sock._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    der_format = getattr(ssl, "_ssl").ENCODING_DER  # noqa: B009
    return [c if isinstance(c, bytes) else c.public_bytes(der_format) for c in chain or ()]


def load_bundle_candidates(path: Path) -> list[x509.Certificate]:
    """Certificates of a bundle already in the agent dir (empty when absent or unreadable)."""
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return []


def pinned_ca(
    hub: str,
    pin: str,
    chain: list[x509.Certificate],
    extra: Sequence[x509.Certificate] = (),
) -> x509.Certificate:
    """The CA with fingerprint ``pin`` to which the hub's certificate chains; else PinMismatchError.

    Candidates are the presented chain and ``extra`` (a bundle already in the agent dir).
    """
    leaf, presented = chain[0], chain[1:]
    match = next((c for c in (*chain, *extra) if pki.fingerprint(c) == pin), None)
    stop = "check the fingerprint with the hub operator; do not continue"
    if match is None:
        cas = [pki.fingerprint(c) for c in presented if pki.is_ca(c)]
        if cas:
            raise PinMismatchError(
                f"the hub presented a CA with fingerprint {', '.join(cas)}, expected {pin}: "
                f"{stop}. Nothing was sent to {hub}"
            )
        raise PinMismatchError(
            f"the hub {hub} presented no CA certificate with fingerprint {pin} (it sent only "
            f"its own certificate, {pki.fingerprint(leaf)}, issued by "
            f"{leaf.issuer.rfc4514_string()}): {stop}. Nothing was sent. The hub's server.pem "
            "should carry its CA after the server certificate; until it does, copy the hub's "
            "bundle.pem into the agent dir as ca.pem and run enroll again"
        )
    if match == leaf or not pki.is_ca(match):
        raise PinMismatchError(
            f"{pin} is the fingerprint of the hub's own certificate, not of its CA: ask the "
            "hub operator for the CA fingerprint; do not continue"
        )
    if not _chains_to(leaf, match, presented):
        raise PinMismatchError(
            f"the hub's certificate was not issued by the CA with fingerprint {pin}: "
            f"{stop}. Nothing was sent to {hub}"
        )
    return match


def _chains_to(
    leaf: x509.Certificate, anchor: x509.Certificate, intermediates: list[x509.Certificate]
) -> bool:
    current = leaf
    for _ in range(MAX_CHAIN_DEPTH):
        if pki.issued_by(current, anchor):
            return True
        parent = next(
            (
                c
                for c in intermediates
                if c != current and pki.is_ca(c) and pki.issued_by(current, c)
            ),
            None,
        )
        if parent is None:
            return False
        current = parent
    return False


# -- enroll -----------------------------------------------------------------------------


def enroll(
    hub: str,
    token: str,
    pin: str,
    *,
    known_bundle: Path | None = None,
    expected_center: str | None = None,
    expected_from: str = "--center",
    timeout: float = ENROLL_TIMEOUT_SECONDS,
) -> Enrollment:
    """Pin the hub's CA, send the token with a fresh CSR, check the answer. Writes nothing.

    ``expected_center`` (from ``expected_from``, e.g. --center or an existing agent.toml)
    must equal the token's center, or the certificate is refused.
    """
    chain = presented_chain(hub)
    extra = load_bundle_candidates(known_bundle) if known_bundle is not None else []
    ca = pinned_ca(hub, pin, chain, extra)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)

    key = pki.generate_key()
    # The CSR's subject is informational; the hub takes the center from the token.
    csr = pki.make_csr(key, expected_center or "enrolling-agent")
    response = _call_enroll(hub, ca_pem, token, csr, timeout)
    return _accept(hub, key, ca, pin, response, expected_center, expected_from)


def _call_enroll(hub: str, ca_pem: bytes, token: str, csr: bytes, timeout: float) -> Any:
    # In memory only: the bootstrap key and certificate are thrown away after this call.
    ca_der = x509.load_pem_x509_certificate(ca_pem).public_bytes(serialization.Encoding.DER)
    cert_pem, key_pem = bootstrap.client_credential(ca_der)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem
    )
    options = [
        ("grpc.max_receive_message_length", limits.MAX_MESSAGE_BYTES),
        # One attempt: a retried Enroll could spend the token twice.
        ("grpc.enable_retries", 0),
    ]
    with grpc.secure_channel(hub, credentials, options=options) as channel:
        stub = grpc_services.EnrollmentServiceStub(channel)
        try:
            return stub.Enroll(
                pb.EnrollRequest(token=token, csr_pem=csr, agent_version=__version__),
                timeout=timeout,
            )
        except grpc.RpcError as exc:
            raise rpc_failure(
                exc,
                hub=hub,
                action="the enrollment",
                # The hub's message names the token's problem and the operator's command.
                refused_hint="Nothing was written; run iplat-agent enroll again with the new token",
                refused=TokenRefusedError,
            ) from None


def _accept(
    hub: str,
    key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    pin: str,
    response: Any,
    expected_center: str | None,
    expected_from: str,
) -> Enrollment:
    report = "report this to the hub operator with the agent and hub versions"
    try:
        who = identity.parse(response.identity_uri)
        cert = x509.load_pem_x509_certificate(bytes(response.certificate_pem))
        bundle = (
            x509.load_pem_x509_certificates(bytes(response.trust_bundle_pem))
            if response.trust_bundle_pem
            else []
        )
    except ValueError as exc:
        raise PkiError(f"the hub's enrollment answer is unusable ({exc}): {report}") from None
    if who.kind != "center":
        raise PkiError(
            f"this token is for a {who.kind} ({who.uri}), not for a center's agent: ask the "
            "hub operator for a center token (iplat-hub token create --center ID)"
        )
    if expected_center is not None and who.name != expected_center:
        raise PkiError(
            f"this token is for center {who.name}, not {expected_center} ({expected_from}); "
            f"nothing was written. The hub counts the token as used: ask the hub operator for "
            f"a token for {expected_center} (iplat-hub token create --center {expected_center})"
        )
    if not pki.same_public_key(cert, key):
        raise PkiError(f"the hub returned a certificate for another key: {report}")
    if pki.center_identity(cert, "the hub's certificate") != who.uri:
        raise PkiError(f"the hub's certificate names another identity than {who.uri}: {report}")
    # The CA this hub proved itself with must stay trusted for the next connections.
    if all(pki.fingerprint(c) != pin for c in bundle):
        bundle.append(ca)
    if not any(pki.issued_by(cert, c) for c in bundle):
        raise PkiError(f"the hub's certificate is not issued by a CA of its bundle: {report}")
    pem = serialization.Encoding.PEM
    return Enrollment(
        center_id=who.name,
        identity=who.uri,
        key_pem=pki.key_pem(key),
        cert_pem=cert.public_bytes(pem),
        cert_not_after=cert.not_valid_after_utc.astimezone(UTC),
        bundle_pem=b"".join(c.public_bytes(pem) for c in bundle),
        ca_fingerprint=pin,
    )


def install(enrollment: Enrollment, tls: TlsConfig) -> list[Path]:
    """Write bundle, key (0600) and certificate; return the paths written.

    The bundle goes first: it holds every CA the hub trusts, so an older key/cert pair
    left by a crash before the swap still works with it.
    """
    for path in (tls.key, tls.cert, tls.ca):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki.write_atomic(tls.ca, enrollment.bundle_pem)
    pki.install_key_and_cert(tls.key, tls.cert, enrollment.key_pem, enrollment.cert_pem)
    return [tls.key, tls.cert, tls.ca]
