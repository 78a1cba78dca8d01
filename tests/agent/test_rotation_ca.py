"""A hub CA rotation seen from a running agent (real hub subprocess): ``ca prepare`` pushes
``Control.trust_bundle`` and the agent writes the old+new bundle to ca.pem without
dropping its stream; ``ca activate`` sends ``Control.renew`` and the agent renews under the
new CA at once; after ``ca retire`` it reconnects with the new pair and keeps syncing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from agent import pki
from tests.helpers import hubenv
from tests.helpers.agentenv import (
    FAST_SYNC,
    equipment_row,
    hub_records,
    make_agent_dir,
    new_center_id,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    data_dir = hubenv.init_hub(tmp_path / "hub", settings={"heartbeat_seconds": 1})
    with hubenv.running_hub(data_dir) as running:
        yield running


def _hub_cli(hub: RunningHub, *argv: str) -> str:
    code, out = hubenv.run_cli(*argv, "--data-dir", str(hub.data_dir))
    assert code == 0, out
    return out


def _fingerprints(path: Path) -> list[str]:
    return [pki.fingerprint(c) for c in x509.load_pem_x509_certificates(path.read_bytes())]


def test_ca_rotation_bundle_push_renew_request_and_retire(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    # A refusal normally waits the longest backoff; after a renewal it must not.
    sync = {**FAST_SYNC, "backoff_max_seconds": 60.0}
    ad = make_agent_dir(hub, tmp_path / "agent", center, sync=sync)
    rows = [equipment_row("EQ-1")]
    ad.write_equipment(rows)
    ca_pem, crt = ad.dir / "ca.pem", ad.dir / "agent.crt"
    old_ca = x509.load_pem_x509_certificate(hub.config.pki_paths.ca_cert.read_bytes())
    with running_agent(ad) as agent:
        eventually(lambda: set(hub_records(hub, center)) == {"EQ-1"}, timeout=30)

        # Step 1: a new CA joins the bundle; the agent stores old + new.
        _hub_cli(hub, "ca", "prepare")
        new_ca = next(
            c
            for c in x509.load_pem_x509_certificates(hub.bundle_path.read_bytes())
            if pki.fingerprint(c) != pki.fingerprint(old_ca)
        )
        both = {pki.fingerprint(old_ca), pki.fingerprint(new_ca)}
        eventually(lambda: set(_fingerprints(ca_pem)) == both, timeout=15, what="bundle written")
        # Logged after the write returns (which syncs the directory): the file can be seen
        # a moment before the line is.
        eventually(lambda: agent.events("trust_bundle_updated"), timeout=15, what="logged")
        assert not list(ad.dir.glob(".ca.pem*"))
        assert len(agent.events("session_start")) == 1

        # Step 2: the new CA signs; the hub asks for a renewal and the agent renews at once.
        activate = ("ca", "activate", "--data-dir", str(hub.data_dir))
        eventually(
            lambda: hubenv.run_cli(*activate)[0] == 0,
            timeout=15,
            what="activate (refused until every agent was seen since prepare)",
        )
        renewed = eventually(lambda: agent.events("certificate_renewed"), timeout=15)
        assert renewed[0]["reason"] != "scheduled"
        assert agent.events("renewal_requested")
        new_cert = x509.load_pem_x509_certificate(crt.read_bytes())
        assert pki.issued_by(new_cert, new_ca)
        assert len(agent.events("session_start")) == 1  # the stream went on

        rows.append(equipment_row("EQ-2"))
        ad.write_equipment(rows)
        eventually(lambda: set(hub_records(hub, center)) == {"EQ-1", "EQ-2"}, timeout=15)

        # Step 3: the old CA leaves; the hub ends the stream opened with the old certificate
        # and the agent comes straight back with the new pair.
        _hub_cli(hub, "ca", "retire", "--force")
        eventually(
            lambda: _fingerprints(ca_pem) == [pki.fingerprint(new_ca)], timeout=15,
            what="bundle without the retired CA",
        )  # fmt: skip
        rows.append(equipment_row("EQ-3"))
        ad.write_equipment(rows)
        eventually(lambda: set(hub_records(hub, center)) == {"EQ-1", "EQ-2", "EQ-3"}, timeout=10)
        eventually(lambda: ad.status()["connection"] == "connected", timeout=15)
        assert ad.status()["backlog"] == 0
