"""HubServer run in-process: the stream registry, Control pushes, staleness, shutdown."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import grpc
import pytest
from iplatform.v1 import sync_pb2

from hub import config
from hub.errors import ServeError
from hub.server import HubServer
from hub.store import Store
from proto import grpc_services, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import SyncSession, equipment_change, init_hub
from tests.helpers.wait import aeventually

CENTER = "KR-MR-0001"
T0 = 1_795_748_400


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _creds(data_dir: Path, name: str, kind: str = "center") -> grpc.ChannelCredentials:
    from hub import pki
    from proto import identity

    cfg = config.load(data_dir)
    kc = pki.load_ca(cfg.pki_paths).issue_key_and_cert(identity.make(cfg.trust_domain, kind, name))
    return hubenv.credentials(cfg.pki_paths.bundle.read_bytes(), kc)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return init_hub(tmp_path / "hub", centers=[CENTER])


def test_request_resync_reaches_the_connected_agent(data_dir: Path) -> None:
    async def run() -> tuple[bool, bool, sync_pb2.SyncResponse]:
        hub = HubServer(config.load(data_dir), listen="127.0.0.1:0")
        address = await hub.start()
        assert hub.sync is not None
        try:
            idle = await hub.sync.request_resync("KR-NOT-CONNECTED", "x")
            async with SyncSession(address, _creds(data_dir, CENTER)) as s:
                await s.hello(CENTER)
                sent = await hub.sync.request_resync(CENTER, "hub restored from backup")
                pushed = await s.call.read()
            return idle, sent, pushed
        finally:
            await hub.shutdown()

    idle, sent, pushed = asyncio.run(run())
    assert not idle and sent
    assert pushed.control.resync.reason == "hub restored from backup"


def test_newer_stream_supersedes_the_older_one(data_dir: Path) -> None:
    async def run() -> tuple[grpc.StatusCode, str, sync_pb2.Ack, list[str], bool]:
        hub = HubServer(config.load(data_dir), listen="127.0.0.1:0")
        address = await hub.start()
        assert hub.sync is not None
        try:
            creds = _creds(data_dir, CENTER)
            async with SyncSession(address, creds) as old, SyncSession(address, creds) as new:
                await old.hello(CENTER)
                await new.hello(CENTER)
                code, details = await old.status()
                ack = await new.batch(CENTER, 0, [equipment_change(CENTER, 1, "EQ-1")])
                connected = hub.sync.connected()
                with Store.open(config.load(data_dir).database_url) as store:
                    still_connected = store.sync_state(CENTER).connected
            return code, details, ack, connected, still_connected
        finally:
            await hub.shutdown()

    code, details, ack, connected, still_connected = asyncio.run(run())
    assert code == grpc.StatusCode.ABORTED and "superseded" in details
    assert ack.applied == 1
    assert connected == [CENTER]
    # The old stream's end must not mark the center disconnected: its successor is live.
    assert still_connected


def test_view_flags_a_silent_center_stale(data_dir: Path) -> None:
    clock = FakeClock(T0)

    async def run() -> tuple[bool, bool]:
        cfg = config.load(data_dir)
        hub = HubServer(cfg, listen="127.0.0.1:0", clock=clock)
        address = await hub.start()
        try:
            async with SyncSession(address, _creds(data_dir, CENTER)) as s:
                await s.hello(CENTER)
                await s.batch(CENTER, 0, [equipment_change(CENTER, 1, "EQ-1")])
            # The disconnect is recorded at the clock's time: let it land before moving on.
            with Store.open(cfg.database_url) as store:

                async def disconnected() -> bool:
                    return not (await asyncio.to_thread(store.sync_state, CENTER)).connected

                await aeventually(disconnected, what="disconnect recorded")
            async with grpc.aio.secure_channel(address, _creds(data_dir, "ops", "operator")) as ch:
                stub = grpc_services.ViewServiceStub(ch)
                request = pb.GetNationalViewRequest(center_ids=[CENTER], include_entries=True)
                clock.now = T0 + cfg.sync.stale_after_seconds - 1
                fresh = (await stub.GetNationalView(request, timeout=10)).centers[0].stale
                clock.now = T0 + cfg.sync.stale_after_seconds + 1
                stale = (await stub.GetNationalView(request, timeout=10)).centers[0].stale
                return fresh, stale
        finally:
            await hub.shutdown()

    assert asyncio.run(run()) == (False, True)


def test_view_rejects_unknown_and_malformed_center_ids(data_dir: Path) -> None:
    async def run() -> list[grpc.StatusCode]:
        hub = HubServer(config.load(data_dir), listen="127.0.0.1:0")
        address = await hub.start()
        codes = []
        try:
            async with grpc.aio.secure_channel(address, _creds(data_dir, "web", "portal")) as ch:
                stub = grpc_services.ViewServiceStub(ch)
                for ids in (["KR-NOPE-1"], ["bad id!"]):
                    try:
                        await stub.GetNationalView(
                            pb.GetNationalViewRequest(center_ids=ids), timeout=10
                        )
                    except grpc.aio.AioRpcError as exc:
                        codes.append(exc.code())
        finally:
            await hub.shutdown()
        return codes

    assert asyncio.run(run()) == [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT]


def test_shutdown_ends_open_streams_and_is_idempotent(data_dir: Path) -> None:
    async def run() -> tuple[grpc.StatusCode, str]:
        hub = HubServer(config.load(data_dir), listen="127.0.0.1:0")
        address = await hub.start()
        async with SyncSession(address, _creds(data_dir, CENTER)) as s:
            await s.hello(CENTER)
            await asyncio.gather(hub.shutdown(), hub.shutdown())
            await hub.shutdown()
            return await s.status()

    code, details = asyncio.run(run())
    assert code == grpc.StatusCode.UNAVAILABLE and "shutting down" in details
    assert not (data_dir / "serve.json").exists()


def test_port_in_use_is_a_clear_error(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def run() -> None:
            hub = HubServer(config.load(data_dir), listen=f"127.0.0.1:{port}")
            try:
                await hub.start()
            finally:
                await hub.shutdown()

        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            asyncio.run(run())
