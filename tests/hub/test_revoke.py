"""``iplat-hub center evict|ban|unban`` against a serving hub in another process: open
streams are cut within a second, every later call is refused, an evicted center comes
back with a new token, a banned one cannot until unbanned."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import grpc
import pytest

from proto import grpc_services, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    add_center,
    create_token,
    enroll,
    equipment_change,
    init_hub,
    run_cli,
    running_hub,
)
from tests.helpers.pki import make_csr
from tests.helpers.wait import eventually

CUT_OFF_SECONDS = 1.0


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("revoke") / "hub")
    hubenv.set_config(data_dir, "max_failures", 1000)
    with running_hub(data_dir) as running:
        yield running


def _enrolled(hub: RunningHub, center_id: str) -> hubenv.Enrolled:
    token = create_token(hub.data_dir, center_id)["token"]
    return asyncio.run(enroll(hub.address, hub.bundle_path.read_bytes(), token))


async def _cut_off(
    hub: RunningHub, creds: grpc.ChannelCredentials, center_id: str, *cli: str
) -> tuple[grpc.StatusCode, str, float]:
    """Hold a stream open, run the CLI command (another 'process' as far as the hub is
    concerned: it only shares the database), and time how long the stream survives."""
    async with SyncSession(hub.address, creds) as s:
        await s.hello(center_id)
        ack = await s.batch(center_id, 0, [equipment_change(center_id, 1, "EQ-1")])
        assert ack.applied == 1
        code, out = await asyncio.to_thread(run_cli, *cli, "--data-dir", str(hub.data_dir))
        assert code == 0, out
        done = time.monotonic()
        status, details = await asyncio.wait_for(s.status(), timeout=10)
        return status, details, time.monotonic() - done


async def _calls(
    hub: RunningHub, creds: grpc.ChannelCredentials, center_id: str
) -> dict[str, grpc.StatusCode]:
    codes: dict[str, grpc.StatusCode] = {}
    async with SyncSession(hub.address, creds) as s:
        # Refused before any message is read; a write racing the refusal can turn its
        # status into INTERNAL in grpc.aio (grpc/grpc#36066), so none is sent.
        codes["sync"] = (await s.status())[0]
    async with grpc.aio.secure_channel(hub.address, creds) as channel:
        stub = grpc_services.CertificateServiceStub(channel)
        for name, call in (
            ("renew", stub.RenewCertificate(pb.RenewCertificateRequest(csr_pem=make_csr()[0]))),
            ("bundle", stub.GetTrustBundle(pb.GetTrustBundleRequest())),
        ):
            try:
                await call
                codes[name] = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as exc:
                codes[name] = exc.code()
    return codes


def test_evicted_center_is_cut_off_refused_and_may_re_enroll(hub: RunningHub) -> None:
    center = "KR-EV-0001"
    add_center(hub.data_dir, center)
    old = _enrolled(hub, center)
    code, details, took = asyncio.run(
        _cut_off(hub, old.credentials(), center, "center", "evict", center, "--reason", "test")
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED and "evicted" in details
    assert took < CUT_OFF_SECONDS, took
    refused = asyncio.run(_calls(hub, old.credentials(), center))
    assert refused == dict.fromkeys(("sync", "renew", "bundle"), grpc.StatusCode.UNAUTHENTICATED)
    state = _center(hub, center)["state"]
    assert state == "evicted"

    again = _enrolled(hub, center)

    async def sync_again() -> int:
        async with SyncSession(hub.address, again.credentials()) as s:
            await s.hello(center)
            return (await s.batch(center, 1, [equipment_change(center, 2, "EQ-2")])).applied

    assert asyncio.run(sync_again()) == 1
    assert _center(hub, center)["state"] in ("online", "stale")


def test_banned_center_is_cut_off_and_cannot_come_back_until_unbanned(hub: RunningHub) -> None:
    center = "KR-BN-0001"
    add_center(hub.data_dir, center)
    old = _enrolled(hub, center)
    spare = create_token(hub.data_dir, center)["token"]  # made before the ban
    code, details, took = asyncio.run(
        _cut_off(hub, old.credentials(), center, "center", "ban", center)
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED and "banned" in details
    assert took < CUT_OFF_SECONDS, took
    refused = asyncio.run(_calls(hub, old.credentials(), center))
    assert refused == dict.fromkeys(("sync", "renew", "bundle"), grpc.StatusCode.PERMISSION_DENIED)
    assert _center(hub, center)["state"] == "banned"

    with pytest.raises(grpc.aio.AioRpcError) as err:
        asyncio.run(enroll(hub.address, hub.bundle_path.read_bytes(), spare))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "withdrawn" in (err.value.details() or "")
    code, _ = run_cli("token", "create", "--center", center, "--data-dir", str(hub.data_dir))
    assert code == 2

    assert run_cli("center", "unban", center, "--data-dir", str(hub.data_dir))[0] == 0
    # Unban lifts the ban, not the revocation: the old certificate stays refused.
    eventually(
        lambda: (
            asyncio.run(_calls(hub, old.credentials(), center))["sync"]
            == grpc.StatusCode.UNAUTHENTICATED
        ),
        timeout=5,
        what="unban seen by the serving hub",
    )
    back = _enrolled(hub, center)
    assert back.identity_uri.endswith(f"/center/{center}")


def _center(hub: RunningHub, center_id: str) -> dict[str, object]:
    import json

    code, out = run_cli("center", "list", "--json", "--data-dir", str(hub.data_dir))
    assert code == 0, out
    [row] = [r for r in json.loads(out) if r["id"] == center_id]
    return dict(row)


def test_other_centers_keep_syncing_through_an_eviction(hub: RunningHub) -> None:
    keep, evict = "KR-KP-0001", "KR-KP-0002"
    for c in (keep, evict):
        add_center(hub.data_dir, c)
    kept, gone = _enrolled(hub, keep), _enrolled(hub, evict)

    async def run() -> tuple[grpc.StatusCode, int]:
        async with SyncSession(hub.address, kept.credentials()) as s:
            await s.hello(keep)
            code, _, _ = await _cut_off(hub, gone.credentials(), evict, "center", "evict", evict)
            ack = await s.batch(keep, 0, [equipment_change(keep, 1, "EQ-1")])
            return code, ack.applied

    assert asyncio.run(run()) == (grpc.StatusCode.UNAUTHENTICATED, 1)


def test_access_log_and_snapshot_on_each_database(db_url: str) -> None:
    from hub.store import Store
    from tests.hub.test_store_builders import CENTER, OTHER, center

    t0 = 1_795_748_400
    with Store.open(db_url) as store:
        store.add_center(center())
        store.add_center(center(OTHER, industry="bio"))
        store.record_certificate(CENTER, "c1", t0 + 86400, issued_at=t0)
        store.record_certificate(CENTER, "c2", t0 + 10, issued_at=t0)  # expires soon
        store.record_certificate(OTHER, "d1", t0 + 86400, issued_at=t0)
        assert store.last_access_event() == 0
        evicted = store.evict_center(CENTER, t0 + 1, "lost laptop")
        banned = store.ban_center(OTHER, t0 + 2)
        assert (evicted.certificates_revoked, banned.certificates_revoked) == (2, 1)
        snap = store.revocation_snapshot(t0 + 20)
        # c2 has expired by then: TLS refuses it anyway, the snapshot need not carry it.
        assert snap.revoked_serials == {"c1", "d1"} and snap.banned_centers == {OTHER}
        store.unban_center(OTHER, t0 + 3)
        events = store.access_events_since(0)
        assert [(e.name, e.action, e.reason) for e in events] == [
            (CENTER, "evict", "lost laptop"), (OTHER, "ban", ""), (OTHER, "unban", ""),
        ]  # fmt: skip
        assert store.access_events_since(events[1].seq) == events[2:]
        assert store.last_access_event() == events[-1].seq
        snap = store.revocation_snapshot(t0 + 20)
        assert snap.banned_centers == frozenset() and snap.seq == events[-1].seq
        assert snap.revoked_serials == {"c1", "d1"}  # unban lifts the ban, not revocations
