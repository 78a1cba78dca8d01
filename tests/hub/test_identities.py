"""``iplat-hub client revoke|list`` and ``iplat-hub token list|void``: revoking a portal's or
operator's certificates (refused by a serving hub on its next call), and listing and
voiding enrollment tokens one by one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from hub import config, token_format
from hub.store import Redemption, Store, TokenRejected, UnknownClient
from hub.store import tokens as token_store
from proto import grpc_services, pb
from tests.helpers.hubenv import (
    RunningHub,
    create_token,
    enroll,
    init_hub,
    run_cli,
    running_hub,
)
from tests.helpers.wait import eventually
from tests.hub.test_store_builders import CENTER, center

T0 = 1_795_748_400


def _redemption(serial: str) -> Redemption:
    return Redemption(serial_hex=serial, not_after=T0 + 86400, ca_fingerprint="sha256:aa", peer="t")


def _token(store: Store, kind: str, name: str, ttl: int = 3600, now: int = T0) -> str:
    token, info = token_format.new_token(kind, name, ttl, now)
    store.create_token(info)
    return token


def _states(store: Store, now: int) -> dict[str, str]:
    return {t.id: token_store.state(t, now) for t in store.list_tokens()}


# -- store, on SQLite and PostgreSQL ---------------------------------------------------------


def test_revoke_client_revokes_voids_and_logs(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.add_center(center())
        store.record_issued(
            "portal", "web", "a1", T0 + 86400, ca_fingerprint="sha256:aa", issued_at=T0
        )
        store.record_issued(
            "portal", "web", "a2", T0 + 86400, ca_fingerprint="sha256:aa", issued_at=T0
        )
        store.record_issued(
            "operator", "web", "b1", T0 + 86400, ca_fingerprint="sha256:aa", issued_at=T0
        )
        store.record_certificate(CENTER, "c1", T0 + 86400, issued_at=T0)
        pending = _token(store, "portal", "web")
        used = _token(store, "portal", "web")
        store.redeem_token(*token_format.parse(used), T0 + 1, _redemption("a3"))
        other = _token(store, "operator", "web")

        done = store.revoke_client("portal", "web", T0 + 10, "leaked key")
        assert (done.certificates_revoked, done.tokens_voided) == (3, 1)
        again = store.revoke_client("portal", "web", T0 + 11)
        assert (again.certificates_revoked, again.tokens_voided) == (0, 0)

        assert {c.serial: c.revoked_at for c in store.list_issued("portal", "web")} == {
            "a1": T0 + 10, "a2": T0 + 10, "a3": T0 + 10,
        }  # fmt: skip
        assert [c.revoked_at for c in store.list_issued("operator", "web")] == [None]
        assert store.revocation_snapshot(T0 + 20).revoked_serials == {"a1", "a2", "a3"}
        assert _states(store, T0 + 20) == {
            token_format.parse(pending)[0]: "voided",
            token_format.parse(used)[0]: "used",
            token_format.parse(other)[0]: "usable",
        }
        events = store.access_events_since(0)
        assert [(e.kind, e.name, e.action, e.reason) for e in events] == [
            ("portal", "web", "revoke", "leaked key"), ("portal", "web", "revoke", ""),
        ]  # fmt: skip
        assert store.revocation_snapshot(T0 + 20).seq == events[-1].seq
        assert [c.serial for c in store.list_client_certificates()] == ["b1", "a3", "a1", "a2"]

        with pytest.raises(UnknownClient):
            store.revoke_client("portal", "nobody", T0 + 12)
        _token(store, "operator", "token-only")
        assert store.revoke_client("operator", "token-only", T0 + 13).tokens_voided == 1
        with pytest.raises(ValueError):
            store.revoke_client("center", CENTER, T0 + 14)
        assert store.list_certificates(CENTER)[0].serial == "c1"


def test_void_token_unknown_used_expired_and_voided(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.add_center(center())
        fresh_token = _token(store, "center", CENTER)
        fresh = token_format.parse(fresh_token)[0]
        expired = token_format.parse(_token(store, "center", CENTER, ttl=60))[0]
        used_token = _token(store, "center", CENTER)
        used = token_format.parse(used_token)[0]
        store.redeem_token(*token_format.parse(used_token), T0 + 1, _redemption("c9"))
        now = T0 + 120
        assert _states(store, now) == {fresh: "usable", expired: "expired", used: "used"}

        with pytest.raises(TokenRejected) as err:
            store.void_token("0123456789abcdef", now)
        assert err.value.reason == "unknown" and err.value.token is None
        with pytest.raises(TokenRejected) as err:
            store.void_token(used, now)
        assert err.value.reason == "used"
        assert err.value.token is not None and err.value.token.cert_serial == "c9"

        voided = store.void_token(fresh, now, "posted in a chat")
        assert voided.voided_at == now
        assert store.void_token(fresh, now + 5).voided_at == now  # already voided: unchanged
        assert store.void_token(expired, now).voided_at == now  # worthless anyway; recorded
        with pytest.raises(TokenRejected) as err:
            store.redeem_token(*token_format.parse(fresh_token), now, _redemption("d1"))
        assert err.value.reason == "voided"
        assert _states(store, now) == {fresh: "voided", expired: "voided", used: "used"}
        events = store.access_events_since(0)
        assert [(e.kind, e.name, e.action, e.reason) for e in events] == [
            ("center", CENTER, "void", f"token {fresh}: posted in a chat"),
            ("center", CENTER, "void", f"token {expired}"),
        ]


# -- the commands, against a hub's database --------------------------------------------------


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    return init_hub(tmp_path / "hub", centers=[CENTER])


def _cli(hub_dir: Path, *argv: str) -> tuple[int, str]:
    return run_cli(*argv, "--data-dir", str(hub_dir))


def test_token_list_and_void(hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaked = create_token(hub_dir, CENTER)["token"]
    kept = create_token(hub_dir, CENTER)["token"]
    code, out = _cli(hub_dir, "client", "add", "web", "--role", "portal", "--token", "--json")
    assert code == 0, out
    portal_token = json.loads(out)["token"]
    ids = {t: token_format.parse(t)[0] for t in (leaked, kept, portal_token)}

    code, out = _cli(hub_dir, "token", "void", leaked, "--reason", "pasted in a chat")
    assert code == 0, out
    assert f"token {ids[leaked]} (center {CENTER}) voided" in out
    code, out = _cli(hub_dir, "token", "list", "--json")
    assert code == 0, out
    assert {(r["id"], r["kind"], r["state"]) for r in json.loads(out)} == {
        (ids[kept], "center", "usable"), (ids[portal_token], "portal", "usable"),
    }  # fmt: skip
    code, out = _cli(hub_dir, "token", "list", "--all", "--center", CENTER, "--json")
    assert {r["id"]: r["state"] for r in json.loads(out)} == {
        ids[leaked]: "voided", ids[kept]: "usable",
    }  # fmt: skip
    code, out = _cli(hub_dir, "token", "list", "--all")
    assert code == 0 and out.splitlines()[0].split() == [
        "id", "kind", "name", "created", "expires", "state",
    ]  # fmt: skip
    assert len(out.splitlines()) == 4 and "voided" in out
    with Store.open(config.load(hub_dir).database_url) as store:
        hashes = [t.secret_hash for t in store.list_tokens()]
    for secret_or_hash in [t.split(".", 1)[1] for t in ids] + hashes:
        assert secret_or_hash not in out
    capsys.readouterr()

    code, _ = _cli(hub_dir, "token", "void", "0123456789abcdef")
    assert code == 2
    assert "iplat-hub token list --all" in capsys.readouterr().err
    with Store.open(config.load(hub_dir).database_url) as store:
        store.redeem_token(*token_format.parse(kept), T0, _redemption("beef01"))
    code, _ = _cli(hub_dir, "token", "void", ids[kept])
    assert code == 2
    err = capsys.readouterr().err
    assert "already used" in err and "certificate serial beef01" in err
    assert f"iplat-hub center evict {CENTER}" in err


def test_client_revoke_and_list(hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _cli(hub_dir, "client", "revoke", "web", "--role", "portal")
    assert code == 1
    assert "iplat-hub client list" in capsys.readouterr().err
    assert _cli(hub_dir, "client", "list")[1].startswith("no portals or operators yet")
    for role in ("portal", "operator"):
        assert _cli(hub_dir, "client", "add", "web", "--role", role, "--token")[0] == 0
    with Store.open(config.load(hub_dir).database_url) as store:
        store.record_issued("portal", "web", "ab12", T0 + 86400, ca_fingerprint="sha256:aa")

    code, out = _cli(hub_dir, "client", "revoke", "web", "--role", "portal", "--reason", "x")
    assert code == 0, out
    assert "portal web revoked: 1 certificate(s) revoked, 1 unused token(s) voided" in out
    assert "iplat-hub client add web --role portal --token" in out
    code, out = _cli(hub_dir, "client", "list", "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert [(r["role"], r["name"], r["identity"]) for r in rows] == [
        ("operator", "web", "spiffe://iplatform.local/operator/web"),
        ("portal", "web", "spiffe://iplatform.local/portal/web"),
    ]
    assert [len(r["tokens"]) for r in rows] == [1, 0]
    [cert] = rows[1]["certificates"]
    assert cert["serial"] == "ab12" and cert["state"] == "revoked" and cert["revoked_at"]
    code, out = _cli(hub_dir, "client", "list")
    assert code == 0 and "ab12" in out and "revoked" in out
    code, _ = _cli(hub_dir, "client", "revoke", "bad name", "--role", "portal")
    assert code == 2


# -- against a serving hub -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("identities") / "hub", centers=[CENTER])
    with running_hub(data_dir) as running:
        yield running


def _enrolled_client(hub: RunningHub, name: str, role: str) -> grpc.ChannelCredentials:
    code, out = _cli(hub.data_dir, "client", "add", name, "--role", role, "--token", "--json")
    assert code == 0, out
    token = json.loads(out)["token"]
    return asyncio.run(enroll(hub.address, hub.bundle_path.read_bytes(), token)).credentials()


def _view(hub: RunningHub, creds: grpc.ChannelCredentials) -> tuple[grpc.StatusCode, str]:
    async def call() -> tuple[grpc.StatusCode, str]:
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            try:
                await grpc_services.ViewServiceStub(channel).GetNationalView(
                    pb.GetNationalViewRequest(), timeout=10
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code(), exc.details() or ""
        return grpc.StatusCode.OK, ""

    return asyncio.run(call())


def test_revoked_portal_is_refused_on_its_next_call(hub: RunningHub) -> None:
    portal = _enrolled_client(hub, "iplatform-web", "portal")
    operator = _enrolled_client(hub, "ops-kim", "operator")
    assert _view(hub, portal)[0] == grpc.StatusCode.OK
    assert _view(hub, operator)[0] == grpc.StatusCode.OK

    code, out = _cli(hub.data_dir, "client", "revoke", "iplatform-web", "--role", "portal")
    assert code == 0, out
    assert "1 certificate(s) revoked" in out

    def refused() -> tuple[grpc.StatusCode, str] | None:
        result = _view(hub, portal)
        return result if result[0] != grpc.StatusCode.OK else None

    result = eventually(refused, timeout=5, what="revocation seen by the serving hub")
    assert result is not None
    code, details = result
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "portal revoked by the hub operator" in details
    assert "iplat-hub client add iplatform-web --role portal --token" in details
    assert _view(hub, operator)[0] == grpc.StatusCode.OK

    def logged() -> list[dict[str, object]]:
        lines = [json.loads(ln) for ln in hub.log_text().splitlines() if ln.startswith("{")]
        return [ln for ln in lines if ln["event"] == "client_revoked"]

    [event] = eventually(logged, timeout=5, what="client_revoked in the hub's log")
    assert (event["kind"], event["client"]) == ("portal", "iplatform-web")

    back = _enrolled_client(hub, "iplatform-web", "portal")
    assert _view(hub, back)[0] == grpc.StatusCode.OK


def test_voided_token_cannot_enroll(hub: RunningHub) -> None:
    token = create_token(hub.data_dir, CENTER)["token"]
    assert _cli(hub.data_dir, "token", "void", token)[0] == 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        asyncio.run(enroll(hub.address, hub.bundle_path.read_bytes(), token))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "withdrawn by the hub operator (voided" in (err.value.details() or "")
