"""Certificate rotation of a running agent against a real hub subprocess: a short-lived
certificate is renewed at ~70% of its lifetime over the live mutual-TLS channel while
CSV changes keep flowing, the stream is not interrupted by it, and the next connection
uses the new certificate."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from agent import pki
from agent.rotation import RENEW_FROM, RENEW_TO
from hub import pki as hub_pki
from proto import identity
from tests.helpers import hubenv
from tests.helpers.agentenv import (
    AgentDir,
    AgentProcess,
    equipment_row,
    hub_records,
    make_agent_dir,
    new_center_id,
    restart_hub,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually

LIFETIME = timedelta(seconds=28)
# How late the renewal may be logged after its planned point (scheduling, one RPC).
SLACK = timedelta(seconds=1.5)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    """A hub of this test only (the test restarts it)."""
    running = hubenv.start_hub(hubenv.init_hub(tmp_path / "hub"))
    yield running
    running.kill()


def short_certificate(hub: RunningHub, ad: AgentDir) -> tuple[datetime, datetime]:
    """Replace agent.crt by a certificate of the same key valid for LIFETIME from now."""
    csr = x509.load_pem_x509_csr((ad.dir / "agent.csr").read_bytes())
    not_before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    not_after = not_before + LIFETIME
    ca = hub_pki.load_ca(hub.config.pki_paths)
    who = identity.make(hub.config.trust_domain, "center", ad.center_id)
    cert = ca.issue(csr.public_key(), who, not_before=not_before, not_after=not_after)  # type: ignore[arg-type]
    pki.write_atomic(ad.dir / "agent.crt", cert)
    return not_before, not_after


class Editor:
    """Changes one record at a time and waits until the hub shows it: sync keeps flowing."""

    def __init__(self, ad: AgentDir) -> None:
        self.ad = ad
        self.rows = [equipment_row(f"EQ-{i}") for i in range(5)]
        self.version = 0
        ad.write_equipment(self.rows)

    def expected(self) -> dict[str, str]:
        return {str(r["id"]): str(r["name_ko"]) for r in self.rows}

    def on_hub(self, hub: RunningHub) -> dict[str, str]:
        return {k: v[0] for k, v in hub_records(hub, self.ad.center_id).items()}

    def edit(self, hub: RunningHub) -> None:
        self.version += 1
        index = self.version % len(self.rows)
        self.rows[index] = equipment_row(f"EQ-{index}", name_ko=f"장비 v{self.version}")
        self.ad.write_equipment(self.rows)
        eventually(lambda: self.on_hub(hub) == self.expected(), timeout=10, what="edit synced")


def _at(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["ts"]))


def _renewed(agent: AgentProcess) -> list[dict[str, object]]:
    return [e for e in agent.events("certificate_renewed")]


def test_running_agent_renews_at_70_percent_without_interrupting_sync(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    not_before, not_after = short_certificate(hub, ad)
    old_cert = (ad.dir / "agent.crt").read_bytes()
    old_key = (ad.dir / "agent.key").read_bytes()
    editor = Editor(ad)

    with running_agent(ad) as agent:
        eventually(lambda: editor.on_hub(hub) == editor.expected(), timeout=30, what="first sync")
        # Changes keep flowing up to the renewal and after it.
        while not _renewed(agent):
            assert datetime.now(UTC) < not_after, "no renewal before the certificate expired"
            editor.edit(hub)
        for _ in range(2):
            editor.edit(hub)
        renewed = _renewed(agent)
        # The renewal did not touch the stream: one session, nothing failed.
        assert len(agent.events("session_start")) == 1
        assert agent.events("session_failed") == []
        assert len(renewed) == 1 and renewed[0]["reason"] == "scheduled"
        lifetime = not_after - not_before
        at = _at(renewed[0])
        assert not_before + lifetime * RENEW_FROM <= at <= not_before + lifetime * RENEW_TO + SLACK

        # New key and certificate on disk, same identity, key private.
        new_cert = x509.load_pem_x509_certificate((ad.dir / "agent.crt").read_bytes())
        new_key = serialization.load_pem_private_key(
            (ad.dir / "agent.key").read_bytes(), password=None
        )
        assert (ad.dir / "agent.crt").read_bytes() != old_cert
        assert (ad.dir / "agent.key").read_bytes() != old_key
        assert pki.same_public_key(new_cert, new_key)  # type: ignore[arg-type]
        assert stat.S_IMODE((ad.dir / "agent.key").stat().st_mode) == 0o600
        old_identity = pki.center_identity(x509.load_pem_x509_certificate(old_cert), "old")
        assert pki.center_identity(new_cert, "new") == old_identity
        assert new_cert.not_valid_after_utc > not_after + timedelta(hours=12)
        assert not list(ad.dir.glob("*.new"))

        # Once the old certificate has expired, a new connection can only use the new one.
        eventually(lambda: datetime.now(UTC) > not_after + timedelta(seconds=1), timeout=40)
        back = restart_hub(hub)
        try:
            eventually(lambda: len(agent.events("session_start")) == 2, timeout=30)
            for _ in range(3):
                editor.edit(back)
            assert editor.on_hub(back) == editor.expected()
            assert ad.status()["backlog"] == 0
        finally:
            back.stop()
    failures = [e["error"] for e in agent.events("session_failed")]
    # Only the hub restart may have cut the stream, never a certificate problem.
    assert all("certificate" not in str(f) for f in failures), failures
