"""``iplat-hub client add``: portal and operator certificates, from a CSR or via a token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from hub import config, pki
from hub.store import Store
from proto import grpc_services, pb
from tests.helpers.hubenv import RunningHub, enroll, init_hub, run_cli, running_hub
from tests.helpers.pki import make_csr


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("clients") / "hub", centers=["KR-MR-0001"])
    with running_hub(data_dir) as running:
        yield running


async def _view_centers(address: str, creds: grpc.ChannelCredentials) -> list[str]:
    async with grpc.aio.secure_channel(address, creds) as channel:
        response = await grpc_services.ViewServiceStub(channel).GetNationalView(
            pb.GetNationalViewRequest(), timeout=10
        )
    return [c.id for c in response.centers]


def test_client_add_with_csr_writes_certificate_and_bundle_beside_it(
    hub: RunningHub, tmp_path: Path
) -> None:
    csr, key = make_csr(
        common_name="anything", uris=("spiffe://iplatform.local/center/KR-MR-0001",)
    )
    (tmp_path / "web.csr").write_bytes(csr)
    code, out = run_cli(
        "client", "add", "iplatform-web", "--role", "portal", "--csr", str(tmp_path / "web.csr"),
        "--data-dir", str(hub.data_dir),
    )  # fmt: skip
    assert code == 0, out
    cert_pem = (tmp_path / "iplatform-web.crt").read_bytes()
    bundle = (tmp_path / "ca.pem").read_bytes()
    assert bundle == hub.bundle_path.read_bytes()
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert pki.spiffe_uris(cert) == ["spiffe://iplatform.local/portal/iplatform-web"]
    creds = grpc.ssl_channel_credentials(bundle, key, cert_pem)
    assert asyncio.run(_view_centers(hub.address, creds)) == ["KR-MR-0001"]
    with Store.open(config.load(hub.data_dir).database_url) as store:
        [issued] = store.list_issued("portal", "iplatform-web")
    assert issued.serial == pki.serial_hex(cert_pem) and issued.ca_fingerprint


def test_client_add_token_enrolls_an_operator(hub: RunningHub) -> None:
    code, out = run_cli(
        "client", "add", "ops-kim", "--role", "operator", "--token", "--json",
        "--data-dir", str(hub.data_dir),
    )  # fmt: skip
    assert code == 0, out
    issued = json.loads(out)
    assert issued["identity"] == "spiffe://iplatform.local/operator/ops-kim"
    enrolled = asyncio.run(enroll(hub.address, hub.bundle_path.read_bytes(), issued["token"]))
    assert enrolled.identity_uri == issued["identity"]
    assert asyncio.run(_view_centers(hub.address, enrolled.credentials())) == ["KR-MR-0001"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["web", "--role", "portal"], "exactly one of --csr FILE"),
        (["web", "--role", "portal", "--token", "--csr", "x.csr"], "exactly one of --csr FILE"),
        (["bad name", "--role", "portal", "--token"], "invalid portal name"),
    ],
)
def test_client_add_refuses_bad_input(
    hub: RunningHub, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _ = run_cli("client", "add", *argv, "--data-dir", str(hub.data_dir))
    assert code == 2
    assert message in capsys.readouterr().err


def test_client_add_rejects_unknown_role(hub: RunningHub) -> None:
    argv = ["client", "add", "x", "--role", "center", "--token", "--data-dir", str(hub.data_dir)]
    assert run_cli(*argv)[0] == 2
