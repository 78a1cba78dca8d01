"""agent.enroll without a hub: reading the presented chain over real TLS, CA pinning,
and the CLI's refusals before anything reaches the network."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent import enroll, pki
from agent.errors import PinMismatchError, SyncError
from tests.helpers.agentenv import run_agent_cli
from tests.helpers.pki import TestPki, session_pki


def _fp(pem: bytes) -> str:
    return pki.fingerprint(x509.load_pem_x509_certificate(pem))


@contextmanager
def tls_server(
    tmp_path: Path, chain_pem: bytes, key_pem: bytes
) -> Iterator[tuple[str, list[bool]]]:
    """A real TLS server presenting ``chain_pem``; yields its address and, per connection,
    whether the client sent any application byte after the handshake."""
    cert_file, key_file = tmp_path / "chain.pem", tmp_path / "server.key"
    cert_file.write_bytes(chain_pem)
    key_file.write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.set_alpn_protocols(["h2"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    received: list[bool] = []

    def serve() -> None:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        with context.wrap_socket(raw, server_side=True) as conn:
            conn.settimeout(5)
            try:
                received.append(bool(conn.recv(1)))
            except (OSError, ssl.SSLError):
                received.append(False)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        listener.close()
        thread.join(10)


@pytest.fixture
def test_pki() -> TestPki:
    return session_pki()


def test_fingerprints_are_normalized_and_malformed_ones_say_how_to_write_them() -> None:
    digest = "AB" * 32
    assert pki.parse_fingerprint(f"SHA256:{digest}") == f"sha256:{digest.lower()}"
    colons = ":".join(["ab"] * 32)
    assert pki.parse_fingerprint(f" sha256:{colons} ") == f"sha256:{'ab' * 32}"
    for bad in ("", "ab" * 32, "md5:" + "ab" * 16, "sha256:" + "ab" * 31, "sha256:" + "zz" * 32):
        with pytest.raises(ValueError, match="sha256"):
            pki.parse_fingerprint(bad)


def test_presented_chain_is_read_without_trusting_it_and_nothing_is_sent(
    tmp_path: Path, test_pki: TestPki
) -> None:
    chain = test_pki.server.cert_pem + test_pki.ca.cert_pem
    with tls_server(tmp_path, chain, test_pki.server.key_pem) as (address, received):
        certs = enroll.presented_chain(address)
    assert [pki.fingerprint(c) for c in certs] == [
        _fp(test_pki.server.cert_pem),
        _fp(test_pki.ca.cert_pem),
    ]
    # The probe closes right after the handshake: not one byte of application data.
    assert received == [False]


def test_pin_selects_the_ca_of_the_chain(test_pki: TestPki) -> None:
    leaf = x509.load_pem_x509_certificate(test_pki.server.cert_pem)
    ca = x509.load_pem_x509_certificate(test_pki.ca.cert_pem)
    assert enroll.pinned_ca("hub:1", pki.fingerprint(ca), [leaf, ca]) == ca


def test_wrong_pin_names_both_fingerprints_and_says_stop(test_pki: TestPki) -> None:
    leaf = x509.load_pem_x509_certificate(test_pki.server.cert_pem)
    ca = x509.load_pem_x509_certificate(test_pki.ca.cert_pem)
    wrong = _fp(test_pki.other_ca.cert_pem)
    with pytest.raises(PinMismatchError) as exc:
        enroll.pinned_ca("hub:1", wrong, [leaf, ca])
    assert str(exc.value).startswith(
        f"the hub presented a CA with fingerprint {pki.fingerprint(ca)}, expected {wrong}: "
        "check the fingerprint with the hub operator; do not continue"
    )
    assert exc.value.exit_code == 4


def test_leaf_only_chain_uses_a_bundle_already_in_the_agent_dir(test_pki: TestPki) -> None:
    leaf = x509.load_pem_x509_certificate(test_pki.server.cert_pem)
    ca = x509.load_pem_x509_certificate(test_pki.ca.cert_pem)
    other = x509.load_pem_x509_certificate(test_pki.other_ca.cert_pem)
    pin = pki.fingerprint(ca)
    with pytest.raises(PinMismatchError, match=r"server\.pem should carry its CA"):
        enroll.pinned_ca("hub:1", pin, [leaf])
    assert enroll.pinned_ca("hub:1", pin, [leaf], [other, ca]) == ca


def test_a_pinned_ca_that_did_not_issue_the_hub_certificate_is_refused(test_pki: TestPki) -> None:
    leaf = x509.load_pem_x509_certificate(test_pki.server.cert_pem)
    other = x509.load_pem_x509_certificate(test_pki.other_ca.cert_pem)
    with pytest.raises(PinMismatchError, match="not issued by the CA"):
        enroll.pinned_ca("hub:1", pki.fingerprint(other), [leaf], [other])


def test_pinning_the_hub_leaf_instead_of_its_ca_is_refused(test_pki: TestPki) -> None:
    leaf = x509.load_pem_x509_certificate(test_pki.server.cert_pem)
    ca = x509.load_pem_x509_certificate(test_pki.ca.cert_pem)
    with pytest.raises(PinMismatchError, match="own certificate, not of its CA"):
        enroll.pinned_ca("hub:1", pki.fingerprint(leaf), [leaf, ca])


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name, issuer_key = issuer or (name, key)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def test_chain_through_an_intermediate_is_followed_to_the_pinned_root() -> None:
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("root", root_key, None, ca=True)
    inter = _cert("inter", inter_key, ("root", root_key), ca=True)
    leaf = _cert("hub", leaf_key, ("inter", inter_key), ca=False)
    pin = pki.fingerprint(root)
    assert enroll.pinned_ca("hub:1", pin, [leaf, inter, root]) == root
    assert enroll.pinned_ca("hub:1", pin, [leaf, inter], [root]) == root
    # Without the intermediate the leaf cannot be tied to the root.
    with pytest.raises(PinMismatchError, match="not issued by the CA"):
        enroll.pinned_ca("hub:1", pin, [leaf], [root])


def test_unreachable_hub_says_to_check_address_and_firewall() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SyncError, match=r"cannot reach hub .*outbound TCP"):
        enroll.presented_chain(f"127.0.0.1:{port}", timeout=5)


def test_a_plain_tcp_service_is_not_taken_for_the_hub() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(SyncError, match=r"TLS handshake with hub .* failed"):
            enroll.presented_chain(f"127.0.0.1:{listener.getsockname()[1]}", timeout=5)
    finally:
        listener.close()
        thread.join(5)


# -- the CLI refuses bad arguments before any network traffic -------------------------------

PIN = "sha256:" + "ab" * 32


def _enroll_cli(tmp_path: Path, *extra: str, hub: str = "127.0.0.1:1") -> tuple[int, str, str]:
    return run_agent_cli("enroll", "--hub", hub, "--dir", str(tmp_path / "agent"), *extra)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--token", "t", "--ca-fingerprint", "ab12"], "--ca-fingerprint: 'ab12' is not a sha256"),
        (["--token", "", "--ca-fingerprint", PIN], "token is empty or malformed"),
        (["--token", "t", "--ca-fingerprint", PIN, "--center", "bad id"], "--center: invalid"),
        (["--token-file", "/nonexistent/t", "--ca-fingerprint", PIN], "--token-file"),
    ],
)
def test_enroll_argument_errors_exit_2_and_write_nothing(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    code, _, err = _enroll_cli(tmp_path, *argv)
    assert code == 2, err
    assert message in err
    assert not (tmp_path / "agent").exists()


def test_enroll_with_a_bad_hub_address_exits_2(tmp_path: Path) -> None:
    code, _, err = _enroll_cli(tmp_path, "--token", "t", "--ca-fingerprint", PIN, hub="hub")
    assert code == 2 and "is not HOST:PORT" in err


def test_enroll_refuses_a_dir_configured_for_another_center(tmp_path: Path) -> None:
    code, _, err = run_agent_cli(
        "init", "--center", "KR-MR-0001", "--hub", "127.0.0.1:1", "--dir", str(tmp_path / "agent")
    )
    assert code == 0, err
    code, _, err = _enroll_cli(
        tmp_path, "--token", "t", "--ca-fingerprint", PIN, "--center", "KR-MR-0002"
    )
    assert code == 2
    assert "is for center KR-MR-0001, not KR-MR-0002" in err


def test_enroll_against_an_unreachable_hub_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = _enroll_cli(
        tmp_path, "--token", "t", "--ca-fingerprint", PIN, hub=f"127.0.0.1:{port}"
    )
    assert code == 1
    assert "cannot reach hub" in err and "Traceback" not in err
    assert not (tmp_path / "agent" / "agent.key").exists()
    assert not (tmp_path / "agent" / "agent.crt").exists()


def test_enroll_with_a_wrong_pin_over_real_tls_exits_4_and_writes_no_key(
    tmp_path: Path, test_pki: TestPki
) -> None:
    chain = test_pki.server.cert_pem + test_pki.ca.cert_pem
    with tls_server(tmp_path, chain, test_pki.server.key_pem) as (address, received):
        code, _, err = _enroll_cli(
            tmp_path,
            "--token",
            "secret-token",
            "--ca-fingerprint",
            _fp(test_pki.other_ca.cert_pem),
            hub=address,
        )
    assert code == 4, err
    assert f"the hub presented a CA with fingerprint {_fp(test_pki.ca.cert_pem)}" in err
    assert "do not continue" in err
    assert received == [False]  # the token never left
    assert not list((tmp_path / "agent").glob("agent.*"))
