"""The HTTP API inside HubServer (in-process): serve.json, turning it off, a clean shutdown
that ends open feed streams at once; the [http]/[feed] settings; the apikey commands."""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from pathlib import Path

import grpc
import pytest

from hub import config, pki
from hub.errors import ConfigError, ServeError
from hub.server import HubServer
from proto import grpc_services, identity, pb
from tests.helpers import hubenv
from tests.helpers.hubenv import init_hub, run_cli
from tests.helpers.portal import SseClient, afetch, create_api_key


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return init_hub(tmp_path / "hub", centers=["KR-MR-0001"])


def test_shutdown_ends_open_feed_streams_without_waiting_for_the_grace(data_dir: Path) -> None:
    key = create_api_key(data_dir, "web")
    cfg = config.load(data_dir)
    assert cfg.server.shutdown_grace_seconds == 5.0

    async def run() -> tuple[dict[str, object], str, grpc.StatusCode, float]:
        hub = HubServer(cfg, listen="127.0.0.1:0")
        address = await hub.start()
        info = json.loads(cfg.serve_info_path.read_text())
        portal = pki.load_ca(cfg.pki_paths).issue_key_and_cert(
            identity.make(cfg.trust_domain, "portal", "web")
        )
        creds = hubenv.credentials(cfg.pki_paths.bundle.read_bytes(), portal)
        try:
            async with (
                SseClient(hub.http_address, key) as feed,
                grpc.aio.secure_channel(address, creds) as channel,
            ):
                call = grpc_services.FeedServiceStub(channel).Watch(pb.WatchRequest())
                assert (await call.read()).caught_up
                assert (await feed.next()).event == "caught-up"  # type: ignore[union-attr]
                started = time.monotonic()
                await hub.shutdown()
                took = time.monotonic() - started
                last = await feed.next()
                ended = "end" if last is not None and last.event == "end" else repr(last)
                try:
                    await call.read()
                    code = grpc.StatusCode.OK
                except grpc.aio.AioRpcError as exc:
                    code = exc.code()
        finally:
            await hub.shutdown()
        return info, ended, code, took

    info, ended, code, took = asyncio.run(run())
    assert info["http"] and info["grpc"]
    assert ended == "end" and code == grpc.StatusCode.UNAVAILABLE
    assert took < 3.0  # not the 5 s grace: the streams ended themselves
    assert not cfg.serve_info_path.exists()


def test_http_api_can_be_turned_off_and_a_taken_port_is_a_clear_error(data_dir: Path) -> None:
    cfg = config.load(data_dir)

    async def run() -> tuple[object, str]:
        off = HubServer(cfg, listen="127.0.0.1:0", http_listen="")
        await off.start()
        info = json.loads(cfg.serve_info_path.read_text())
        try:
            first = HubServer(cfg, listen="127.0.0.1:0")
            await first.start()
            try:
                taken = HubServer(cfg, listen="127.0.0.1:0", http_listen=first.http_address)
                with pytest.raises(ServeError, match=r"HTTP.*\[http\] listen") as err:
                    await taken.start()
                reply = await afetch(first.http_address, "/healthz")
                assert reply.status == 200
            finally:
                await first.shutdown()
        finally:
            await off.shutdown()
        return info["http"], str(err.value)

    http, _ = asyncio.run(run())
    assert http is None


def test_http_and_feed_settings_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"

    def load(text: str) -> config.HubConfig:
        return config.from_dict(tomllib.loads(text), tmp_path, path)

    cfg = load('[http]\nlisten = "0.0.0.0:0"\ncors_origins = ["https://a.kr", "*"]\n')
    assert cfg.http.cors_origins == ("https://a.kr", "*") and cfg.feed.retention_seconds > 0
    assert load("[feed]\nretention_seconds = 0\n").feed.retention_seconds == 0
    for text, needle in (
        ('[http]\nlisten = "nowhere"\n', r"\[http\] listen"),
        ('[http]\ncors_origins = ["https://a.kr/path"]\n', "not an origin"),
        ("[http]\nmax_body_byte = 5\n", "unknown key"),
        ("[feed]\nretention_seconds = 5\n", "out of range"),
        ("[feed]\npoll_seconds = 0\n", "out of range"),
    ):
        with pytest.raises(ConfigError, match=needle):
            load(text)


def test_apikey_commands(data_dir: Path) -> None:
    create_api_key(data_dir, "portal-a")
    code, out = run_cli("apikey", "create", "portal-a", "--data-dir", str(data_dir))
    assert code == 2 and out == ""
    code, out = run_cli("apikey", "create", "bad name!", "--data-dir", str(data_dir))
    assert code == 2
    code, out = run_cli("apikey", "revoke", "nobody", "--data-dir", str(data_dir))
    assert code == 2
    code, out = run_cli("apikey", "revoke", "portal-a", "--data-dir", str(data_dir))
    assert code == 0 and "revoked" in out
    code, out = run_cli("apikey", "list", "--json", "--data-dir", str(data_dir))
    [row] = json.loads(out)
    assert row["name"] == "portal-a" and row["role"] == "portal" and row["revoked_at"]
    assert "key" not in row and "secret_hash" not in row
    # Only the hash is stored: the key string appears nowhere in the database.
    code, out = run_cli("apikey", "create", "portal-b", "--json", "--data-dir", str(data_dir))
    secret = json.loads(out)["key"].split(".")[1].encode()
    files = [f for f in data_dir.glob("hub.db*") if f.is_file()]
    assert files and not any(secret in f.read_bytes() for f in files)
