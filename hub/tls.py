"""The hub's TLS material, served without restarts.

One port serves everybody (agents' firewalls allow one outbound port), so the TLS layer
must let a caller without a hub certificate reach Enroll while still verifying every
certificate presented. grpcio for Python cannot request a client certificate without
requiring it (``require_client_auth=False`` means "do not ask"), so the server requires
one from everybody and trusts, beside the hub's CAs, one bootstrap CA per hub CA, whose key
anyone can derive from that CA's public certificate (:mod:`proto.bootstrap`); callers
without an identity present a certificate of it. The bootstrap CA certificates are built
in memory whenever the material is loaded, never stored. An expired or foreign-CA
certificate still fails the handshake; :mod:`hub.auth` then gives bootstrap callers only
Enroll and health.

The server uses ``grpc.dynamic_ssl_server_credentials``: gRPC calls :meth:`ServerTls._fetch`
before every new connection's handshake, and it answers with a new certificate
configuration after :meth:`ServerTls.reload` has seen new files (``iplat-hub ca prepare``
/ ``activate`` / ``retire`` from another process), else None ("unchanged"). Established
connections keep the configuration they were made with.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from hub import logs, pki
from hub.errors import PkiError, ServeError
from proto import bootstrap

log = logging.getLogger("hub.tls")

Stamp = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class TlsMaterial:
    """One consistent set of the hub's TLS files."""

    server_key: bytes
    server_chain: bytes
    """server.pem followed by the CA that issued it, so a new agent can pin that CA by its
    fingerprint from the handshake (install command ``--ca-fingerprint``)."""
    bundle: bytes
    """Every CA peers must trust (bundle.pem), the active one first."""
    cas: tuple[x509.Certificate, ...]
    active_ca: x509.Certificate
    """The CA that signs new certificates (ca.pem)."""
    active_fingerprint: str
    stamp: Stamp

    @property
    def client_roots(self) -> bytes:
        """What a client certificate must chain to: the hub's CAs or their bootstrap CAs."""
        pem = serialization.Encoding.PEM
        derived = b"".join(bootstrap.ca_certificate(ca).public_bytes(pem) for ca in self.cas)
        return self.bundle.rstrip(b"\n") + b"\n" + derived


def _stamp(paths: pki.PkiPaths) -> Stamp:
    out = []
    for path in (paths.server_key, paths.server_cert, paths.bundle, paths.ca_cert):
        try:
            st = path.stat()
        except OSError:
            out.append((-1, -1))
        else:
            out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PkiError(
            f"cannot read {path} ({exc}); run 'iplat-hub init' or restore DATA_DIR/pki"
        ) from exc


def load_material(paths: pki.PkiPaths) -> TlsMaterial:
    """Read and cross-check the TLS files; PkiError if they do not fit together."""
    stamp = _stamp(paths)
    key_pem = _read(paths.server_key)
    cert_pem = _read(paths.server_cert)
    bundle = _read(paths.bundle)
    active_pem = _read(paths.ca_cert)
    cas = tuple(pki.load_bundle(bundle))
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        server = x509.load_pem_x509_certificate(cert_pem)
        active = x509.load_pem_x509_certificate(active_pem)
    except ValueError as exc:
        raise PkiError(f"unreadable TLS file in {paths.dir} ({exc}); restore DATA_DIR/pki") from exc
    if server.public_key() != key.public_key():
        raise PkiError(f"{paths.server_key} does not belong to {paths.server_cert}")
    if active not in cas:
        raise PkiError(f"{paths.ca_cert} (the active CA) is not in {paths.bundle}")
    issuer = next((ca for ca in cas if issued_by(server, ca)), None)
    if issuer is None:
        raise PkiError(f"{paths.server_cert} was not issued by a CA of {paths.bundle}")
    chain = cert_pem.rstrip(b"\n") + b"\n" + issuer.public_bytes(serialization.Encoding.PEM)
    return TlsMaterial(
        server_key=key_pem,
        server_chain=chain,
        bundle=bundle,
        cas=cas,
        active_ca=active,
        active_fingerprint=pki.cert_fingerprint(active),
        stamp=stamp,
    )


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class TlsChange:
    """What a reload changed."""

    bundle_changed: bool
    active_changed: bool
    server_changed: bool


def _configuration(material: TlsMaterial) -> Any:
    return grpc.ssl_server_certificate_configuration(
        [(material.server_key, material.server_chain)], root_certificates=material.client_roots
    )


class ServerTls:
    """The serving hub's current TLS material and the gRPC credentials that follow it."""

    def __init__(self, paths: pki.PkiPaths) -> None:
        self._paths = paths
        try:
            self._material = load_material(paths)
        except PkiError as exc:
            raise ServeError(str(exc)) from exc
        self._lock = threading.Lock()
        self._pending: Any = None
        self.generation = 0
        """Bumped on every change, so caches keyed on it (hub.auth) start over."""

    @property
    def material(self) -> TlsMaterial:
        return self._material

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            _configuration(self._material),
            self._fetch,
            require_client_authentication=True,
        )

    def _fetch(self) -> Any:
        # Called by gRPC's core before every handshake, on one of its threads: stay cheap.
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    def reload(self) -> TlsChange | None:
        """Pick up changed files; None when nothing changed (or the files are mid-update)."""
        if _stamp(self._paths) == self._material.stamp:
            return None
        try:
            new = load_material(self._paths)
        except PkiError as exc:
            # E.g. server.key already replaced, server.pem not yet: the next poll sees both.
            logs.event(log, "tls_reload_deferred", logging.WARNING, reason=str(exc))
            return None
        old = self._material
        change = TlsChange(
            bundle_changed=new.bundle != old.bundle,
            active_changed=new.active_fingerprint != old.active_fingerprint,
            server_changed=new.server_chain != old.server_chain,
        )
        config = _configuration(new)
        with self._lock:
            self._material = new
            self._pending = config
            self.generation += 1
        logs.event(
            log,
            "tls_reloaded",
            active_ca=new.active_fingerprint,
            trusted_cas=[pki.cert_fingerprint(c) for c in new.cas],
            bundle_changed=change.bundle_changed,
            active_changed=change.active_changed,
            server_changed=change.server_changed,
        )
        return change
