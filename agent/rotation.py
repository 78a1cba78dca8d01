"""Certificate rotation while the agent runs, and trust-bundle updates from the hub.

When: at a point drawn once per certificate, uniformly between 65% and 75% of its lifetime
(:func:`renewal_point`), so the centers enrolled on one day do not all renew in the same
second, and well before expiry so a few days offline cost nothing. ``Control.renew`` from
the hub (e.g. after a CA rotation) asks for a renewal now. A due renewal waits for a
connected session: it uses that session's mutual-TLS channel, authenticated by the
current certificate.

How: a new key and CSR (the key never leaves the agent dir) go to
``CertificateService.RenewCertificate``; the answer is checked (a certificate for our key
and our identity, issued by a CA of the bundle) and installed with
:func:`agent.pki.install_key_and_cert` (the old pair stays until the new one is complete).
The bundle in the answer replaces ``ca.pem``. The running stream is left alone; the runner
loads the new pair for its next session.

Failures are logged and retried with a delay; they never touch the sync stream.
``Control.trust_bundle`` writes ``ca.pem`` (old and new CAs during a CA rotation), used
from the next connection on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from agent import logs, pki
from agent.client import wait_event
from agent.config import AgentConfig
from agent.enroll import rpc_failure
from agent.errors import AgentError, PkiError, SyncError
from agent.pki import TlsMaterial
from proto import grpc_services, pb

log = logging.getLogger(__name__)

RENEW_FROM = 0.65
RENEW_TO = 0.75
RENEW_TIMEOUT_SECONDS = 30.0
# The plan is re-read from the certificate on disk at least this often (clock jumps, a
# certificate replaced by `iplat-agent enroll` while running).
MAX_WAIT_SECONDS = 60.0
# A due renewal checks this often whether a session is connected.
CONNECT_RECHECK_SECONDS = 1.0
# Retry delays after a failed renewal: a share of the lifetime, within these bounds.
RETRY_SHARE = 0.02
RETRY_MIN_SECONDS = 1.0
RETRY_MAX_SECONDS = 300.0

ChannelGetter = Callable[[], "grpc.aio.Channel | None"]


def renewal_point(not_before: datetime, not_after: datetime, fraction: float) -> datetime:
    """``fraction`` of the way from ``not_before`` to ``not_after``."""
    return not_before + (not_after - not_before) * fraction


def draw_fraction(rng: random.Random) -> float:
    return rng.uniform(RENEW_FROM, RENEW_TO)


def retry_delay(lifetime_seconds: float, failures: int, rng: random.Random) -> float:
    """Jittered delay before renewal attempt ``failures + 1``: grows, bounded by the lifetime."""
    base = min(RETRY_MAX_SECONDS, max(RETRY_MIN_SECONDS, lifetime_seconds * RETRY_SHARE))
    delay = min(RETRY_MAX_SECONDS, base * 2 ** max(0, min(failures - 1, 8)))
    return rng.uniform(delay / 2, delay)


class Rotator:
    """Renews the agent's certificate on schedule or on request; stores bundle updates.

    ``channel()`` returns the connected session's channel, or None while disconnected.
    """

    def __init__(
        self,
        config: AgentConfig,
        channel: ChannelGetter,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._channel = channel
        self._rng = rng or random.Random()
        self._clock = clock
        self._plan: tuple[str, datetime] | None = None  # (certificate fingerprint, renew at)
        self._requested: str | None = None
        self._kick = asyncio.Event()
        self.renewals = 0

    # -- what the session calls (Control messages) ------------------------------------------

    def renew_requested(self, reason: str) -> None:
        """``Control.renew``: renew as soon as possible (the run loop does it)."""
        self._requested = reason or "requested by the hub"
        logs.event(log, "renewal_requested", reason=self._requested)
        self._kick.set()

    async def trust_bundle(self, pem: bytes) -> None:
        """``Control.trust_bundle``: store the bundle; a bad one is logged, never raised."""
        try:
            await asyncio.to_thread(self.store_bundle, pem)
        except AgentError as exc:
            logs.event(
                log,
                "trust_bundle_rejected",
                logging.ERROR,
                error=str(exc),
                action="kept the current ca.pem; tell the hub operator",
            )

    def store_bundle(self, pem: bytes) -> bool:
        """Write ``pem`` as ca.pem (atomically) if it is a usable, new bundle; True if written."""
        path = self._config.tls.ca
        cas = _parse_bundle(pem)
        if path.exists() and path.read_bytes() == pem:
            return False
        pki.write_atomic(path, pem)
        logs.event(
            log,
            "trust_bundle_updated",
            path=str(path),
            cas=[pki.fingerprint(c) for c in cas],
            action="used from the next connection on",
        )
        return True

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Renew whenever due or asked, until ``stop`` is set."""
        relay = asyncio.create_task(self._relay(stop))
        failures = 0
        try:
            while not stop.is_set():
                self._kick.clear()
                material = await self._current()
                if material is None:
                    await wait_event(self._kick, MAX_WAIT_SECONDS)
                    continue
                due_in = (self.renew_at(material) - self._clock()).total_seconds()
                if self._requested is None and due_in > 0:
                    await wait_event(self._kick, min(due_in, MAX_WAIT_SECONDS))
                    continue
                channel = self._channel()
                if channel is None:
                    await wait_event(self._kick, CONNECT_RECHECK_SECONDS)
                    continue
                reason = self._requested or "scheduled"
                try:
                    await self.renew(channel, material, reason)
                except Exception as exc:
                    # AgentError is the expected kind; anything else is a bug, logged with its
                    # traceback, and must not stop renewals (nor the sync beside them).
                    failures += 1
                    lifetime = _lifetime_seconds(material)
                    delay = retry_delay(lifetime, failures, self._rng)
                    logs.event(
                        log,
                        "renewal_failed",
                        logging.WARNING if material.not_after > self._clock() else logging.ERROR,
                        reason=reason,
                        error=str(exc),
                        failures=failures,
                        retry_in=round(delay, 3),
                        not_after=material.not_after.isoformat(),
                        exc_info=not isinstance(exc, AgentError),
                    )
                    await wait_event(self._kick, delay)
                    continue
                failures = 0
                if self._requested == reason:
                    self._requested = None
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._kick.set()

    async def _current(self) -> TlsMaterial | None:
        config = self._config
        try:
            return await asyncio.to_thread(
                pki.load_tls, config.tls, config.center_id, hub=config.hub
            )
        except PkiError:
            # The session loop reports what is wrong (and keeps reporting it); renewing
            # needs a working certificate, so there is nothing to do until it is fixed.
            return None

    def renew_at(self, material: TlsMaterial) -> datetime:
        """When ``material``'s certificate is due; drawn once per certificate."""
        current = pki.fingerprint(x509.load_pem_x509_certificate(material.cert_pem))
        if self._plan is None or self._plan[0] != current:
            not_before = material.not_before or material.not_after
            at = renewal_point(not_before, material.not_after, draw_fraction(self._rng))
            self._plan = (current, at)
            logs.event(
                log,
                "renewal_planned",
                logging.DEBUG,
                renew_at=at.isoformat(),
                not_after=material.not_after.isoformat(),
            )
        return self._plan[1]

    # -- one renewal ------------------------------------------------------------------------

    async def renew(self, channel: grpc.aio.Channel, current: TlsMaterial, reason: str) -> None:
        """One RenewCertificate exchange on ``channel``; the new pair is installed on success."""
        started = time.monotonic()
        key = pki.generate_key()
        csr = pki.make_csr(key, self._config.center_id)
        stub = grpc_services.CertificateServiceStub(channel)
        try:
            response = await stub.RenewCertificate(
                pb.RenewCertificateRequest(csr_pem=csr), timeout=RENEW_TIMEOUT_SECONDS
            )
        except grpc.RpcError as exc:
            raise rpc_failure(
                exc,
                hub=self._config.hub,
                action="the certificate renewal",
                refused_hint=(
                    "The agent keeps syncing with its current certificate and retries; if this "
                    "persists, ask the hub operator (iplat-hub center list)"
                ),
            ) from None
        except (grpc.aio.UsageError, asyncio.CancelledError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the agent is stopping
            # The session closed its channel before or during the call (grpc.aio reports a
            # call cancelled that way as CancelledError): the stream ended, we did not.
            raise SyncError(
                "the session ended during the certificate renewal; retrying on the next one",
                code="CANCELLED",
            ) from None
        cert = await asyncio.to_thread(self._install, key, response, current)
        self.renewals += 1
        logs.event(
            log,
            "certificate_renewed",
            reason=reason,
            not_after=cert.not_valid_after_utc.isoformat(),
            previous_not_after=current.not_after.isoformat(),
            fingerprint=pki.fingerprint(cert),
            seconds=round(time.monotonic() - started, 3),
            action="the new certificate is used from the next connection on",
        )

    def _install(
        self, key: ec.EllipticCurvePrivateKey, response: Any, current: TlsMaterial
    ) -> x509.Certificate:
        tls = self._config.tls
        report = "kept the current certificate; report this to the hub operator"
        try:
            cert = x509.load_pem_x509_certificate(bytes(response.certificate_pem))
        except ValueError:
            raise PkiError(f"the hub's renewed certificate is not PEM: {report}") from None
        new_bundle = bytes(response.trust_bundle_pem)
        cas = _parse_bundle(new_bundle) if new_bundle else _parse_bundle(current.ca_pem)
        if not pki.same_public_key(cert, key):
            raise PkiError(f"the hub renewed a certificate for another key: {report}")
        if pki.center_identity(cert, "the renewed certificate") != current.identity:
            raise PkiError(f"the renewed certificate is not for {current.identity}: {report}")
        if not any(pki.issued_by(cert, ca) for ca in cas):
            raise PkiError(f"the renewed certificate is not issued by a CA of the bundle: {report}")
        if cert.not_valid_after_utc <= self._clock():
            raise PkiError(f"the hub renewed a certificate that is already expired: {report}")
        # Bundle first: it holds the CAs of both the old and the new certificate.
        if new_bundle:
            self.store_bundle(new_bundle)
        pki.install_key_and_cert(
            tls.key, tls.cert, pki.key_pem(key), cert.public_bytes(serialization.Encoding.PEM)
        )
        return cert


def _parse_bundle(pem: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise PkiError("the hub's trust bundle is not PEM; kept the current ca.pem") from None
    if not certs or not all(pki.is_ca(c) for c in certs):
        raise PkiError(
            "the hub's trust bundle holds a certificate that is not a CA; kept the current ca.pem"
        )
    return certs


def _lifetime_seconds(material: TlsMaterial) -> float:
    if material.not_before is None:
        return RETRY_MAX_SECONDS / RETRY_SHARE
    return (material.not_after - material.not_before).total_seconds()
