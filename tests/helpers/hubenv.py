"""A real hub for tests: ``iplat-hub init`` in-process, ``iplat-hub serve`` as a subprocess.

::

    data_dir = init_hub(tmp_path / "hub", centers=["KR-MR-0001"])
    with running_hub(data_dir) as hub:
        files = hub.issue_client("KR-MR-0001")      # key, cert and CA bundle on disk
        creds = hub.credentials("KR-MR-0001")       # grpc.ChannelCredentials
        ... grpc.aio.secure_channel(hub.address, creds) ...

The hub listens on 127.0.0.1 port 0; its address comes from DATA_DIR/serve.json. The
process is always stopped (SIGTERM, then SIGKILL) when the context exits.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import grpc
from cryptography.hazmat.primitives import serialization
from iplatform.v1 import message_pb2, sync_pb2

from hub import cli, pki
from hub import config as hub_config
from proto import grpc_services, identity, pb, timeconv
from tests.helpers.wait import eventually

REPO = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str]:
    """``iplat-hub ARGV`` in-process; (exit code, stdout)."""
    out = StringIO()
    with redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def init_hub(
    data_dir: Path,
    *,
    centers: Iterable[str] = (),
    db_url: str | None = None,
    trust_domain: str = "iplatform.local",
    settings: dict[str, object] | None = None,
) -> Path:
    """Create a hub in ``data_dir``, register ``centers`` and override hub.toml keys.

    ``settings`` maps a key already present in hub.toml (``"stale_after_seconds"``) to
    its new value.
    """
    # HTTP API on a free port: test hubs run side by side (serve.json has the address).
    argv = ["init", "--data-dir", str(data_dir), "--trust-domain", trust_domain]
    argv += ["--http-listen", "127.0.0.1:0"]
    if db_url:
        argv += ["--db", db_url]
    code, out = run_cli(*argv)
    assert code == 0, out
    for key, value in (settings or {}).items():
        set_config(data_dir, key, value)
    for center_id in centers:
        add_center(data_dir, center_id)
    return data_dir


def add_center(data_dir: Path, center_id: str, industry: str = "machinery-robotics") -> None:
    code, out = run_cli(
        "center", "add", center_id, "--industry", industry, "--name-ko", f"센터 {center_id}",
        "--name-en", f"Center {center_id}", "--region", "대전", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0, out


def set_config(data_dir: Path, key: str, value: object) -> None:
    path = data_dir / hub_config.CONFIG_NAME
    text = path.read_text()
    new, n = re.subn(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {json.dumps(value)}", text)
    assert n == 1, f"{key} not found in {path}"
    path.write_text(new)


@dataclass(frozen=True)
class ClientFiles:
    key: Path
    cert: Path
    ca: Path


@dataclass
class RunningHub:
    data_dir: Path
    address: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def config(self) -> hub_config.HubConfig:
        return hub_config.load(self.data_dir)

    @property
    def bundle_path(self) -> Path:
        return self.config.pki_paths.bundle

    def issue(self, name: str, kind: str = "center", **kw: object) -> pki.KeyAndCert:
        """A client key+cert from this hub's CA (``kw``: not_before/not_after/days)."""
        ca = pki.load_ca(self.config.pki_paths)
        who = identity.make(self.config.trust_domain, kind, name)
        return ca.issue_key_and_cert(who, **kw)  # type: ignore[arg-type]

    def issue_client(
        self, name: str, kind: str = "center", out_dir: Path | None = None
    ) -> ClientFiles:
        """Write ``<name>.key`` (0600), ``<name>.crt`` and ``ca.pem`` into ``out_dir``."""
        kc = self.issue(name, kind)
        out = out_dir or self.data_dir / "clients" / f"{kind}-{name}"
        files = ClientFiles(out / f"{name}.key", out / f"{name}.crt", out / "ca.pem")
        pki.write_atomic(files.key, kc.key_pem, private=True)
        pki.write_atomic(files.cert, kc.cert_pem)
        pki.write_atomic(files.ca, self.bundle_path.read_bytes())
        return files

    def credentials(self, name: str, kind: str = "center") -> grpc.ChannelCredentials:
        kc = self.issue(name, kind)
        return credentials(self.bundle_path.read_bytes(), kc)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"hub did not stop on SIGTERM within {timeout}s") from None

    def kill(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()


def credentials(bundle: bytes, client: pki.KeyAndCert | None) -> grpc.ChannelCredentials:
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=bundle)
    return grpc.ssl_channel_credentials(
        root_certificates=bundle, private_key=client.key_pem, certificate_chain=client.cert_pem
    )


def start_hub(data_dir: Path, listen: str = "127.0.0.1:0", timeout: float = 30) -> RunningHub:
    """Start ``python -m hub serve`` and wait for its serve.json."""
    info_path = data_dir / hub_config.SERVE_INFO_NAME
    info_path.unlink(missing_ok=True)
    log_path = data_dir / "hub.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--data-dir", str(data_dir), "--listen", listen],
            stdout=log,
            stderr=log,
            cwd=REPO,
            env=env,
        )

    def ready() -> str:
        if process.poll() is not None:
            raise AssertionError(f"hub exited with {process.returncode}:\n{log_path.read_text()}")
        info = json.loads(info_path.read_text())
        assert info["pid"] == process.pid
        return str(info["grpc"])

    try:
        address = eventually(ready, timeout=timeout, what="hub serve.json")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RunningHub(data_dir, address, process, log_path)


@contextmanager
def running_hub(data_dir: Path, listen: str = "127.0.0.1:0") -> Iterator[RunningHub]:
    hub = start_hub(data_dir, listen)
    try:
        yield hub
    finally:
        if hub.process.poll() is None:
            try:
                hub.stop()
            finally:
                hub.kill()


# -- a raw Sync client speaking the proto ----------------------------------------------------


def equipment_change(center_id: str, seq: int, eq_id: str, **fields: object) -> message_pb2.Change:
    eq = pb.Equipment(
        id=eq_id,
        name_ko=str(fields.pop("name_ko", f"장비 {eq_id}")),
        name_en=str(fields.pop("name_en", f"Equipment {eq_id}")),
        category=str(fields.pop("category", "battery-cycler")),
        status=fields.pop("status", pb.EQUIPMENT_STATUS_AVAILABLE),
        **fields,
    )
    return pb.Change(
        key=pb.RecordKey(kind=pb.RECORD_KIND_EQUIPMENT, id=eq_id),
        seq=seq,
        center_id=center_id,
        equipment=eq,
    )


def entry_change(
    center_id: str, seq: int, entry_id: str, eq_id: str, start: int, end: int
) -> message_pb2.Change:
    entry = pb.CalendarEntry(
        id=entry_id,
        equipment_id=eq_id,
        start=timeconv.from_epoch(start),
        end=timeconv.from_epoch(end),
        kind=pb.ENTRY_KIND_BOOKED,
    )
    return pb.Change(
        key=pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=entry_id),
        seq=seq,
        center_id=center_id,
        entry=entry,
    )


class SyncSession:
    """One Sync stream opened with a given certificate (use inside a running event loop)."""

    def __init__(self, address: str, creds: grpc.ChannelCredentials) -> None:
        self.channel = grpc.aio.secure_channel(address, creds)
        self.call = grpc_services.SyncServiceStub(self.channel).Sync(timeout=30)

    async def __aenter__(self) -> SyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.call.cancel()
        await self.channel.close()

    async def send(self, **msg: object) -> None:
        await self.send_request(pb.SyncRequest(**msg))

    async def send_request(self, request: sync_pb2.SyncRequest) -> None:
        """Write one request. If the hub already ended the call, the write fails; the
        status is then what matters, and the next ``read``/``status`` reports it."""
        with suppress(grpc.aio.AioRpcError):
            await self.call.write(request)

    async def hello(self, center_id: str, **fields: object) -> sync_pb2.Welcome:
        await self.send(hello=pb.Hello(center_id=center_id, agent_version="test/1", **fields))
        response = await self.call.read()
        assert response.WhichOneof("msg") == "welcome", response
        return response.welcome

    async def batch(
        self, center_id: str, prev_seq: int, changes: list[message_pb2.Change]
    ) -> sync_pb2.Ack:
        await self.send(
            batch=pb.ChangeBatch(center_id=center_id, prev_seq=prev_seq, changes=changes)
        )
        response = await self.call.read()
        assert response.WhichOneof("msg") == "ack", response
        return response.ack

    async def status(self) -> tuple[grpc.StatusCode, str]:
        """Read to the end of the stream; the final status code and details."""
        try:
            while await self.call.read() is not grpc.aio.EOF:
                pass
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        return await self.call.code(), await self.call.details()


# -- enrollment: tokens, the bootstrap credential, Enroll ----------------------------------


def bootstrap_credentials(bundle: bytes, ca_pem: bytes | None = None) -> grpc.ChannelCredentials:
    """What a caller without a certificate presents: a bootstrap certificate minted for
    ``ca_pem`` (default: the bundle's first CA, the active one), trusting ``bundle``."""
    from proto import bootstrap

    ca = pki.load_bundle(ca_pem or bundle)[0]
    cert_pem, key_pem = bootstrap.client_credential(ca.public_bytes(serialization.Encoding.DER))
    return grpc.ssl_channel_credentials(
        root_certificates=bundle, private_key=key_pem, certificate_chain=cert_pem
    )


def create_token(data_dir: Path, center_id: str, *extra: str) -> dict[str, str]:
    """``iplat-hub token create --center ID --json`` in-process; its JSON."""
    code, out = run_cli(
        "token", "create", "--center", center_id, "--json", "--data-dir", str(data_dir), *extra
    )
    assert code == 0, out
    result: dict[str, str] = json.loads(out)
    return result


@dataclass(frozen=True)
class Enrolled:
    """The outcome of an Enroll call: a key, the certificate the hub issued, its bundle."""

    key_and_cert: pki.KeyAndCert
    identity_uri: str
    bundle: bytes
    not_after: int

    def credentials(self, bundle: bytes | None = None) -> grpc.ChannelCredentials:
        return credentials(bundle or self.bundle, self.key_and_cert)


async def enroll(
    address: str,
    bundle: bytes,
    token: str,
    csr_pem: bytes | None = None,
    key_pem: bytes = b"",
    *,
    ca_pem: bytes | None = None,
) -> Enrolled:
    """Call Enroll with a bootstrap credential (of ``ca_pem``, default the bundle's first
    CA); raises grpc.aio.AioRpcError on refusal."""
    if csr_pem is None:
        from tests.helpers.pki import make_csr

        csr_pem, key_pem = make_csr()
    async with grpc.aio.secure_channel(address, bootstrap_credentials(bundle, ca_pem)) as channel:
        response = await grpc_services.EnrollmentServiceStub(channel).Enroll(
            pb.EnrollRequest(token=token, csr_pem=csr_pem, agent_version="test/1"), timeout=10
        )
    return Enrolled(
        pki.KeyAndCert(key_pem, bytes(response.certificate_pem)),
        response.identity_uri,
        bytes(response.trust_bundle_pem),
        timeconv.to_epoch(response.not_after),
    )
