"""``iplat-hub token create`` and the token store: hashed, bound, expiring, single-use."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import config, pki, token_format
from hub.store import Redemption, Store, TokenRejected
from tests.helpers.hubenv import add_center, create_token, init_hub, run_cli, set_config
from tests.hub.test_store_builders import CENTER, center

T0 = 1_795_748_400


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    return init_hub(tmp_path / "hub", centers=["KR-MR-0001"])


def test_token_create_prints_token_fingerprint_and_install_command(hub_dir: Path) -> None:
    code, out = run_cli("token", "create", "--center", "KR-MR-0001", "--data-dir", str(hub_dir))
    assert code == 0, out
    cfg = config.load(hub_dir)
    fingerprint = (
        "sha256:"
        + hashlib.sha256(
            pki.load_ca(cfg.pki_paths).cert.public_bytes(pki.serialization.Encoding.DER)
        ).hexdigest()
    )
    token = next(w for w in out.split() if w.startswith("ipt_"))
    assert f"hub CA fingerprint: {fingerprint}" in out
    assert (
        f"iplat-install agent --hub 127.0.0.1:7443 --token {token} --ca-fingerprint {fingerprint}"
        in out
    )
    assert "single use" in out and "shown only now" in out


def test_token_json_and_only_a_hash_is_stored(hub_dir: Path) -> None:
    before = int(time.time())
    result = create_token(hub_dir, "KR-MR-0001", "--ttl", "90m", "--hub", "hub.example.kr:7443")
    assert set(result) >= {"token", "ca_fingerprint", "expires_at", "center", "install_command"}
    assert result["center"] == "KR-MR-0001"
    assert result["install_command"].startswith("iplat-install agent --hub hub.example.kr:7443 ")
    token_id, secret_hash = token_format.parse(result["token"])
    secret = result["token"].split(".", 1)[1]
    with Store.open(config.load(hub_dir).database_url) as store:
        [stored] = store.list_tokens("center", "KR-MR-0001")
        with store.engine.connect() as conn:
            dump = repr(conn.execute(text("SELECT * FROM enrollment_tokens")).all())
    assert stored.id == token_id and stored.secret_hash == secret_hash
    assert secret not in dump
    assert before + 5400 <= stored.expires_at <= int(time.time()) + 5400
    assert result["expires_at"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored.expires_at)
    )


def test_public_address_from_config_is_advertised(hub_dir: Path) -> None:
    set_config(hub_dir, "public_address", "hub.iplatform.kr:443")
    result = create_token(hub_dir, "KR-MR-0001")
    assert result["hub"] == "hub.iplatform.kr:443"
    assert "--hub hub.iplatform.kr:443 " in result["install_command"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--center", "KR-NOPE-1"], 1, "not registered; add it first"),
        (["--center", "bad id"], 2, "invalid center id"),
        (["--center", "KR-MR-0001", "--ttl", "soon"], 2, "--ttl: 'soon' is not a duration"),
        (["--center", "KR-MR-0001", "--ttl", "90d"], 2, "outside 1m..30d"),
        (["--center", "KR-MR-0001", "--hub", "hub:0"], 2, "port 0 cannot be dialled"),
    ],
)
def test_token_create_refuses_bad_input(
    hub_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, _ = run_cli("token", "create", *argv, "--data-dir", str(hub_dir))
    assert got == code
    assert message in capsys.readouterr().err


def test_durations() -> None:
    assert [token_format.parse_duration(t) for t in ("45", "30m", "24h", "7d", "10s")] == [
        45, 1800, 86400, 604800, 10,
    ]  # fmt: skip
    for bad in ("", "0h", "-1h", "1w", "h"):
        with pytest.raises(ValueError):
            token_format.parse_duration(bad)


def _redemption(serial: str) -> Redemption:
    return Redemption(serial_hex=serial, not_after=T0 + 86400, ca_fingerprint="sha256:aa", peer="t")


def test_concurrent_redeems_of_one_token_exactly_one_wins(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.add_center(center())
        token, info = token_format.new_token("center", CENTER, 3600, T0)
        store.create_token(info)
        token_id, secret_hash = token_format.parse(token)
        start = threading.Barrier(8)
        outcomes: list[str] = []

        def redeem(i: int) -> None:
            start.wait()
            try:
                store.redeem_token(token_id, secret_hash, T0 + 1, _redemption(f"{i + 1:x}"))
                outcomes.append("won")
            except TokenRejected as exc:
                outcomes.append(exc.reason)

        threads = [threading.Thread(target=redeem, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["used"] * 7 + ["won"]
        assert len(store.list_certificates(CENTER)) == 1


def test_redeem_refuses_expired_voided_and_banned(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.add_center(center())
        expired, info = token_format.new_token("center", CENTER, 60, T0)
        store.create_token(info)
        with pytest.raises(TokenRejected) as err:
            store.redeem_token(*token_format.parse(expired), T0 + 60, _redemption("a1"))
        assert err.value.reason == "expired"
        pending, info = token_format.new_token("center", CENTER, 3600, T0)
        store.create_token(info)
        change = store.ban_center(CENTER, T0 + 10, "test")
        assert change.tokens_voided == 2  # the expired one was never used either
        with pytest.raises(TokenRejected) as err:
            store.redeem_token(*token_format.parse(pending), T0 + 20, _redemption("a2"))
        assert err.value.reason == "voided"
        _, fresh = token_format.new_token("center", CENTER, 3600, T0 + 30)
        with pytest.raises(TokenRejected) as err:
            store.create_token(fresh)
        assert err.value.reason == "banned"
        assert store.list_certificates(CENTER) == []


def test_token_for_a_banned_center_is_refused_until_unban(
    hub_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_center(hub_dir, "KR-BI-0002", industry="bio")
    assert run_cli("center", "ban", "KR-BI-0002", "--data-dir", str(hub_dir))[0] == 0
    code, _ = run_cli("token", "create", "--center", "KR-BI-0002", "--data-dir", str(hub_dir))
    assert code == 2
    assert "iplat-hub center unban KR-BI-0002" in capsys.readouterr().err
    assert run_cli("center", "unban", "KR-BI-0002", "--data-dir", str(hub_dir))[0] == 0
    assert json.loads(
        run_cli("token", "create", "--center", "KR-BI-0002", "--json", "--data-dir", str(hub_dir))[
            1
        ]
    )["token"].startswith("ipt_")
