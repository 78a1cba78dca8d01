"""mTLS and authorization of a real hub process, seen by a raw grpc.aio client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from iplatform.v1 import view_pb2

from hub import pki
from proto import grpc_services, identity, pb
from tests.helpers.hubenv import RunningHub, SyncSession, credentials, init_hub, running_hub
from tests.helpers.wait import eventually

CENTER = "KR-MR-0001"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("auth") / "hub", centers=[CENTER])
    with running_hub(data_dir) as running:
        yield running


async def _view(
    hub: RunningHub, creds: grpc.ChannelCredentials
) -> view_pb2.GetNationalViewResponse:
    async with grpc.aio.secure_channel(hub.address, creds) as channel:
        stub = grpc_services.ViewServiceStub(channel)
        return await stub.GetNationalView(pb.GetNationalViewRequest(), timeout=10)


def _view_code(hub: RunningHub, creds: grpc.ChannelCredentials) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        asyncio.run(_view(hub, creds))
    return err.value.code()


def test_client_without_certificate_fails_the_handshake(hub: RunningHub) -> None:
    assert (
        _view_code(hub, credentials(hub.bundle_path.read_bytes(), None))
        == grpc.StatusCode.UNAVAILABLE
    )


def test_certificate_from_another_ca_fails_the_handshake(hub: RunningHub) -> None:
    other = pki.CertificateAuthority.create("iplatform.local")
    impostor = other.issue_key_and_cert(identity.make("iplatform.local", "operator", "root"))
    creds = credentials(hub.bundle_path.read_bytes(), impostor)
    assert _view_code(hub, creds) == grpc.StatusCode.UNAVAILABLE


def test_expired_certificate_fails_the_handshake(hub: RunningHub) -> None:
    now = datetime.now(UTC)
    expired = hub.issue(
        "ops",
        kind="operator",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    creds = credentials(hub.bundle_path.read_bytes(), expired)
    assert _view_code(hub, creds) == grpc.StatusCode.UNAVAILABLE


def test_operator_and_portal_may_read_the_view(hub: RunningHub) -> None:
    for kind, name in (("operator", "ops"), ("portal", "iplatform-web")):
        response = asyncio.run(_view(hub, hub.credentials(name, kind)))
        assert [c.id for c in response.centers] == [CENTER]


def test_agent_certificate_may_not_call_the_view(hub: RunningHub) -> None:
    assert _view_code(hub, hub.credentials(CENTER)) == grpc.StatusCode.PERMISSION_DENIED


def test_portal_certificate_may_not_sync(hub: RunningHub) -> None:
    async def run() -> tuple[grpc.StatusCode, str]:
        async with SyncSession(hub.address, hub.credentials("iplatform-web", "portal")) as s:
            # The refusal comes before any message is read, so none is sent: a write racing
            # the refusal can turn its status into INTERNAL in grpc.aio (grpc/grpc#36066).
            return await s.status()

    code, details = asyncio.run(run())
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "portal/iplatform-web may not call /iplatform.v1.SyncService/Sync" in details


def test_certificate_of_another_trust_domain_is_unauthenticated(hub: RunningHub) -> None:
    # Signed by the hub's own CA, but for a foreign trust domain: the CA alone is not enough.
    ca = pki.load_ca(hub.config.pki_paths)
    foreign = ca.issue_key_and_cert(identity.make("evil.example", "operator", "ops"))
    creds = credentials(hub.bundle_path.read_bytes(), foreign)
    assert _view_code(hub, creds) == grpc.StatusCode.UNAUTHENTICATED


def test_health_reports_serving_for_every_service(hub: RunningHub) -> None:
    async def run() -> list[int]:
        async with grpc.aio.secure_channel(hub.address, hub.credentials(CENTER)) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            names = [
                "",
                "iplatform.v1.SyncService",
                "iplatform.v1.ViewService",
                "iplatform.v1.EnrollmentService",
                "iplatform.v1.CertificateService",
            ]
            return [
                (await stub.Check(health_pb2.HealthCheckRequest(service=n), timeout=10)).status
                for n in names
            ]

    assert asyncio.run(run()) == [health_pb2.HealthCheckResponse.SERVING] * 5


def test_reflection_lists_the_services(hub: RunningHub) -> None:
    async def run() -> set[str]:
        async with grpc.aio.secure_channel(
            hub.address, hub.credentials("ops", "operator")
        ) as channel:
            call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                timeout=10
            )
            await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
            response = await call.read()
            await call.done_writing()
            return {s.name for s in response.list_services_response.service}

    assert {
        "iplatform.v1.SyncService",
        "iplatform.v1.ViewService",
        "iplatform.v1.EnrollmentService",
        "iplatform.v1.CertificateService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= asyncio.run(run())


def test_oversized_message_is_refused_by_grpc(hub: RunningHub) -> None:
    async def run() -> tuple[grpc.StatusCode, str]:
        async with SyncSession(hub.address, hub.credentials(CENTER)) as s:
            await s.hello(CENTER)
            huge = pb.ChangeBatch(center_id=CENTER, changes=[pb.Change(center_id="x" * (9 << 20))])
            await s.send(batch=huge)
            return await s.status()

    code, _ = asyncio.run(run())
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_hub_logs_json_lines_with_center_id(hub: RunningHub) -> None:
    assert _view_code(hub, hub.credentials(CENTER)) == grpc.StatusCode.PERMISSION_DENIED

    def denied() -> list[dict[str, object]]:
        lines = [json.loads(ln) for ln in hub.log_text().splitlines() if ln.startswith("{")]
        assert any(line["event"] == "listening" for line in lines)
        return [line for line in lines if line["event"] == "permission_denied"]

    found = eventually(denied, what="permission_denied logged")
    assert found[-1]["center_id"] == CENTER
    assert found[-1]["method"] == "/iplatform.v1.ViewService/GetNationalView"
