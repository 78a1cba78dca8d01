"""CA rotation against a serving hub, without restarting it: prepare (new CA trusted and
pushed), activate (new server certificate, agents asked to renew), retire (old CA dropped
once nobody depends on it)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509

from hub import ca_rotation, config, pki
from proto import grpc_services, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    create_token,
    enroll,
    equipment_change,
    init_hub,
    run_cli,
    running_hub,
)
from tests.helpers.pki import make_csr
from tests.helpers.wait import eventually

C, D = "KR-MR-0001", "KR-MR-0002"


def _cli(hub: RunningHub, *argv: str) -> tuple[int, str]:
    return run_cli(*argv, "--data-dir", str(hub.data_dir))


async def _control(s: SyncSession, kind: str) -> Any:
    """The next Control of ``kind`` on the stream (others, e.g. a bundle push, are skipped)."""
    while True:
        msg = await asyncio.wait_for(s.call.read(), timeout=5)
        assert msg.WhichOneof("msg") == "control", msg
        if msg.control.WhichOneof("action") == kind:
            return getattr(msg.control, kind)


async def _trust_bundle(address: str, creds: grpc.ChannelCredentials) -> Any:
    async with grpc.aio.secure_channel(address, creds) as channel:
        return await grpc_services.CertificateServiceStub(channel).GetTrustBundle(
            pb.GetTrustBundleRequest(), timeout=10
        )


async def _code(address: str, creds: grpc.ChannelCredentials) -> grpc.StatusCode:
    try:
        await _trust_bundle(address, creds)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_rotation_prepare_activate_retire_without_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = init_hub(tmp_path / "hub", centers=[C, D])
    with running_hub(data_dir) as hub:
        old_ca = hub.bundle_path.read_bytes()
        old_fp = pki.fingerprint(old_ca)
        c = asyncio.run(enroll(hub.address, old_ca, create_token(data_dir, C)["token"]))
        asyncio.run(enroll(hub.address, old_ca, create_token(data_dir, D)["token"]))

        async def run() -> None:
            async with SyncSession(hub.address, c.credentials(old_ca)) as s:
                await s.hello(C)

                # 1. prepare: the bundle grows and reaches the connected agent.
                assert _cli(hub, "ca", "prepare")[0] == 0
                pushed = (await _control(s, "trust_bundle")).trust_bundle_pem
                cas = pki.load_bundle(pushed)
                assert len(cas) == 2 and pki.cert_fingerprint(cas[0]) == old_fp
                new_ca = pki.split_pem(pushed)[1]
                answer = await _trust_bundle(hub.address, c.credentials(old_ca))
                assert answer.trust_bundle_pem == pushed
                assert answer.active_ca_fingerprint == old_fp

                # 2. activate is refused while D, enrolled before prepare, was not reached.
                code, _ = _cli(hub, "ca", "activate")
                assert code == 1 and D in capsys.readouterr().err
                # C reports after prepare (the hub counts whole seconds), D stays silent.
                prepared_at = ca_rotation.load_state(hub.config.pki_paths).cas[-1].created_at
                eventually(lambda: time.time() >= prepared_at + 1, what="a second after prepare")
                await s.send(heartbeat=pb.Heartbeat(backlog=0))
                await s.batch(C, 0, [equipment_change(C, 1, "EQ-1")])  # last_seen is now
                assert _cli(hub, "center", "evict", D)[0] == 0
                assert _cli(hub, "ca", "activate")[0] == 0
                assert "CA changed" in (await _control(s, "renew")).reason

                # New handshakes get a server certificate of the new CA only.
                only_new = hubenv.credentials(new_ca, c.key_and_cert)
                only_old = hubenv.credentials(old_ca, c.key_and_cert)
                answer = await _trust_bundle(hub.address, only_new)
                assert answer.active_ca_fingerprint == pki.fingerprint(new_ca)
                assert await _code(hub.address, only_old) == grpc.StatusCode.UNAVAILABLE

                # 3. retire is refused while C's certificate of the old CA is all it has.
                code, _ = _cli(hub, "ca", "retire")
                err = capsys.readouterr().err
                assert (
                    code == 1
                    and f"center/{C} serial {pki.serial_hex(c.key_and_cert.cert_pem)}" in err
                )

                csr, key = make_csr()
                async with grpc.aio.secure_channel(hub.address, only_new) as channel:
                    renewed = await grpc_services.CertificateServiceStub(channel).RenewCertificate(
                        pb.RenewCertificateRequest(csr_pem=csr), timeout=10
                    )
                new_cert = x509.load_pem_x509_certificate(renewed.certificate_pem)
                new_cert.verify_directly_issued_by(x509.load_pem_x509_certificate(new_ca))
                assert pki.spiffe_uris(new_cert) == [f"spiffe://iplatform.local/center/{C}"]

                assert _cli(hub, "ca", "retire")[0] == 0
                # The stream on the old certificate ends; the old certificate is refused.
                code, details = await asyncio.wait_for(s.status(), timeout=5)
                assert code == grpc.StatusCode.UNAUTHENTICATED and "retired" in details
            renewed_creds = hubenv.credentials(
                new_ca, pki.KeyAndCert(key, bytes(renewed.certificate_pem))
            )
            assert await _code(hub.address, hubenv.credentials(new_ca, c.key_and_cert)) in (
                grpc.StatusCode.UNAVAILABLE,
            )
            async with SyncSession(hub.address, renewed_creds) as s2:
                await s2.hello(C)
                assert (await s2.batch(C, 1, [equipment_change(C, 2, "EQ-2")])).applied == 1

        asyncio.run(run())
        assert hub.process.poll() is None  # never restarted
    state = ca_rotation.load_state(config.load(data_dir).pki_paths)
    assert [(e.id, e.status) for e in state.cas] == [("ca-1", "retired"), ("ca-2", "active")]
    assert not (data_dir / "pki" / "ca-1.key").exists()
    code, out = run_cli("ca", "status", "--json", "--data-dir", str(data_dir))
    assert code == 0
    assert [r["status"] for r in json.loads(out)["cas"]] == ["retired", "active"]


def test_rotation_steps_out_of_order_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = init_hub(tmp_path / "hub")
    for argv, words in (
        (["ca", "activate"], "no CA is prepared"),
        (["ca", "retire"], "no previous CA to retire"),
    ):
        assert run_cli(*argv, "--data-dir", str(data_dir))[0] == 1
        assert words in capsys.readouterr().err
    assert run_cli("ca", "prepare", "--data-dir", str(data_dir))[0] == 0
    assert run_cli("ca", "prepare", "--data-dir", str(data_dir))[0] == 1
    assert "already prepared" in capsys.readouterr().err
    # Nobody holds a certificate, so activation and retirement need no --force.
    assert run_cli("ca", "activate", "--data-dir", str(data_dir))[0] == 0
    assert run_cli("ca", "prepare", "--data-dir", str(data_dir))[0] == 1
    assert "ca retire" in capsys.readouterr().err
    assert run_cli("ca", "retire", "--data-dir", str(data_dir))[0] == 0
    paths = config.load(data_dir).pki_paths
    bundle = pki.load_bundle(paths.bundle.read_bytes())
    assert [pki.cert_fingerprint(c) for c in bundle] == [
        pki.fingerprint(paths.ca_cert.read_bytes())
    ]


def test_which_certificates_keep_an_old_ca_needed(db_url: str) -> None:
    from hub.store import Store
    from tests.hub.test_store_builders import CENTER, OTHER, center

    old, new, t0 = "sha256:01", "sha256:02", 1_795_748_400
    with Store.open(db_url) as store:
        store.add_center(center())
        store.add_center(center(OTHER, industry="bio"))
        store.record_certificate(CENTER, "a1", t0 + 900, issued_at=t0, ca_fingerprint=old)
        store.record_certificate(CENTER, "a2", t0 + 900, issued_at=t0 + 5, ca_fingerprint=new)
        store.record_certificate(OTHER, "b1", t0 + 900, issued_at=t0, ca_fingerprint=old)
        store.record_certificate(OTHER, "b0", t0 + 900, issued_at=t0)  # CA not recorded
        store.record_issued("portal", "web", "c1", t0 + 900, ca_fingerprint=old, issued_at=t0)
        store.record_issued("portal", "web", "c0", t0 + 30, ca_fingerprint=old, issued_at=t0)
        needed = store.certificates_depending_on(old, t0 + 60, active_fingerprint=new)
        # a1 is superseded by its holder's renewal under the new CA; c0 has expired.
        assert sorted((c.kind, c.name, c.serial) for c in needed) == [
            ("center", OTHER, "b0"), ("center", OTHER, "b1"), ("portal", "web", "c1"),
        ]  # fmt: skip
        store.evict_center(OTHER, t0 + 61)
        needed = store.certificates_depending_on(old, t0 + 62, active_fingerprint=new)
        assert [(c.kind, c.serial) for c in needed] == [("portal", "c1")]
