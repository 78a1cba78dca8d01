from __future__ import annotations

import json
import os
import time
import tomllib
from pathlib import Path

import pytest
from cryptography import x509

from hub import config, pki
from hub.store import Store
from tests.helpers.hubenv import add_center, entry_change, equipment_change, init_hub, run_cli
from tests.helpers.pki import make_csr


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    return init_hub(tmp_path / "hub")


def test_init_creates_config_pki_and_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    code, out = run_cli(
        "init", "--data-dir", str(data_dir), "--host", "hub.example.kr", "--trust-domain", "kr.test"
    )
    assert code == 0, out
    assert "iplat-hub center add" in out and "iplat-hub serve" in out
    raw = tomllib.loads((data_dir / "hub.toml").read_text())
    assert raw["trust_domain"] == "kr.test"
    assert raw["listen"] == "127.0.0.1:7443"
    assert raw["database_url"] == f"sqlite:///{data_dir.resolve() / 'hub.db'}"
    assert raw["sync"] == {
        "heartbeat_seconds": 5,
        "stale_after_seconds": 30,
        "max_batch_changes": 1000,
        "max_inflight_batches": 4,
        "reconcile_seconds": 600,
    }
    assert "hub.example.kr" in raw["tls"]["server_hosts"]
    paths = config.load(data_dir).pki_paths
    assert os.stat(paths.ca_key).st_mode & 0o777 == 0o600
    assert os.stat(paths.server_key).st_mode & 0o777 == 0o600
    server = x509.load_pem_x509_certificate(paths.server_cert.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "hub.example.kr"} <= set(san.get_values_for_type(x509.DNSName))
    assert "spiffe://kr.test/hub/hub" in san.get_values_for_type(x509.UniformResourceIdentifier)
    with Store.open(raw["database_url"]) as store:
        assert store.list_centers() == []


def test_init_refuses_to_overwrite_an_existing_hub(hub_dir: Path) -> None:
    ca_key = (hub_dir / "pki" / "ca.key").read_bytes()
    code, _ = run_cli("init", "--data-dir", str(hub_dir))
    assert code == 2
    assert (hub_dir / "pki" / "ca.key").read_bytes() == ca_key


def test_init_error_is_printed_once_with_the_next_step(
    hub_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli("init", "--data-dir", str(hub_dir))
    err = capsys.readouterr().err
    assert err.count("iplat-hub: error:") == 1
    assert "already exists" in err and "another --data-dir" in err


def test_init_with_unreachable_database_rolls_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    code, _ = run_cli(
        "init", "--data-dir", str(data_dir), "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x"
    )
    assert code == 1
    assert not data_dir.exists()  # a corrected rerun is not refused as "already exists"


def test_center_add_validates_industry_and_lists_valid_codes(
    hub_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli(
        "center", "add", "KR-MR-0001", "--industry", "robots", "--name-ko", "가", "--name-en", "A",
        "--region", "대전", "--data-dir", str(hub_dir),
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown industry 'robots'" in err
    assert "machinery-robotics, bio, materials" in err
    with Store.open(config.load(hub_dir).database_url) as store:
        assert store.list_centers() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad id!", "--industry", "bio"], "invalid center id"),
        (["KR-BI-0001", "--industry", "bio", "--time-zone", "Mars/Base"], "unknown time zone"),
    ],
)
def test_center_add_rejects_bad_values(
    hub_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = ["center", "add", *args, "--name-ko", "가", "--name-en", "A", "--region", "서울"]
    code, _ = run_cli(*argv, "--data-dir", str(hub_dir))
    assert code == 2
    assert message in capsys.readouterr().err


def test_center_add_twice_is_an_error(hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_center(hub_dir, "KR-MR-0001")
    argv = ["center", "add", "KR-MR-0001", "--industry", "bio", "--name-ko", "가", "--name-en", "A"]
    code, _ = run_cli(*argv, "--region", "서울", "--data-dir", str(hub_dir))
    assert code == 1
    assert "KR-MR-0001" in capsys.readouterr().err


def test_center_list_text_and_json(hub_dir: Path) -> None:
    code, out = run_cli("center", "list", "--data-dir", str(hub_dir))
    assert code == 0 and "no centers yet" in out
    add_center(hub_dir, "KR-MR-0001")
    add_center(hub_dir, "KR-BI-0002", industry="bio")
    code, out = run_cli("center", "list", "--data-dir", str(hub_dir), "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["id"], r["industry"], r["state"], r["hwm"]) for r in rows] == [
        ("KR-BI-0002", "bio", "registered", 0),
        ("KR-MR-0001", "machinery-robotics", "registered", 0),
    ]
    with Store.open(config.load(hub_dir).database_url) as store:
        store.record_hello("KR-MR-0001", "test/1", int(time.time()))
    code, out = run_cli("center", "list", "--data-dir", str(hub_dir))
    line = next(ln for ln in out.splitlines() if ln.startswith("KR-MR-0001"))
    assert "online" in line and "센터 KR-MR-0001" in line


def test_center_sign_sets_identity_from_hub_not_csr(hub_dir: Path, tmp_path: Path) -> None:
    add_center(hub_dir, "KR-MR-0001")
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    csr, _ = make_csr(common_name="KR-OTHER", uris=("spiffe://iplatform.local/center/KR-OTHER",))
    (agent_dir / "agent.csr").write_bytes(csr)
    code, out = run_cli(
        "center", "sign", str(agent_dir / "agent.csr"), "--center", "KR-MR-0001",
        "--data-dir", str(hub_dir), "--days", "30",
    )  # fmt: skip
    assert code == 0, out
    assert str(agent_dir / "agent.crt") in out and "iplat-agent" in out
    cert_pem = (agent_dir / "agent.crt").read_bytes()
    assert str(pki.identity_from_cert(cert_pem)) == "spiffe://iplatform.local/center/KR-MR-0001"
    cfg = config.load(hub_dir)
    assert (agent_dir / "ca.pem").read_bytes() == cfg.pki_paths.bundle.read_bytes()
    pki.load_ca(cfg.pki_paths).verify(cert_pem)
    with Store.open(cfg.database_url) as store:
        certs = store.list_certificates("KR-MR-0001")
    assert [c.serial for c in certs] == [pki.serial_hex(cert_pem)]
    assert certs[0].not_after == pki.not_after_epoch(cert_pem)


def test_center_sign_for_unknown_center_writes_nothing(
    hub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csr, _ = make_csr()
    (tmp_path / "agent.csr").write_bytes(csr)
    argv = ["center", "sign", str(tmp_path / "agent.csr"), "--center", "KR-NOPE-1"]
    code, _ = run_cli(*argv, "--data-dir", str(hub_dir))
    assert code == 1
    assert "iplat-hub center add KR-NOPE-1" in capsys.readouterr().err
    assert not (tmp_path / "agent.crt").exists()


def test_center_sign_rejects_garbage_csr(
    hub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_center(hub_dir, "KR-MR-0001")
    (tmp_path / "agent.csr").write_text("not a csr")
    argv = ["center", "sign", str(tmp_path / "agent.csr"), "--center", "KR-MR-0001"]
    code, _ = run_cli(*argv, "--data-dir", str(hub_dir))
    assert code == 1
    assert "not a PEM certificate signing request" in capsys.readouterr().err
    assert not (tmp_path / "agent.crt").exists()


def test_view_json_and_text_from_the_database(hub_dir: Path) -> None:
    add_center(hub_dir, "KR-MR-0001")
    add_center(hub_dir, "KR-BI-0002", industry="bio")
    start = 1_795_748_400  # 2026-11-27T03:00:00Z
    with Store.open(config.load(hub_dir).database_url) as store:
        changes = [
            equipment_change("KR-MR-0001", 1, "EQ-1", name_ko="충방전기"),
            entry_change("KR-MR-0001", 2, "BK-1", "EQ-1", start, start + 3600),
        ]
        store.apply_batch("KR-MR-0001", 0, changes, int(time.time()))
    code, out = run_cli("view", "--data-dir", str(hub_dir), "--json")
    assert code == 0
    view = json.loads(out)
    assert view["generated_at"].endswith("Z")
    by_id = {c["id"]: c for c in view["centers"]}
    mr = by_id["KR-MR-0001"]
    assert (mr["industry"], mr["hwm"], mr["stale"]) == ("machinery-robotics", 2, False)
    assert mr["last_sync"].endswith("Z")
    [eq] = mr["equipment"]
    assert (eq["id"], eq["name_ko"], eq["status"], eq["category"]) == (
        "EQ-1", "충방전기", "available", "battery-cycler",
    )  # fmt: skip
    assert eq["entries"] == [
        {
            "id": "BK-1",
            "start": "2026-11-27T03:00:00Z",
            "end": "2026-11-27T04:00:00Z",
            "kind": "booked",
        }
    ]
    assert by_id["KR-BI-0002"]["stale"] is True and by_id["KR-BI-0002"]["last_sync"] is None
    code, out = run_cli("view", "--data-dir", str(hub_dir))
    assert code == 0
    blocks = out.split("\n\n")
    mr_block = next(b for b in blocks if b.startswith("KR-MR-0001"))
    bi_block = next(b for b in blocks if b.startswith("KR-BI-0002"))
    assert "충방전기" in mr_block and "booked" in mr_block and "STALE" not in mr_block
    assert "STALE" in bi_block.splitlines()[0]


def test_serve_rejects_bad_listen(hub_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_cli("serve", "--data-dir", str(hub_dir), "--listen", "nohost")
    assert code == 2
    assert "--listen" in capsys.readouterr().err


def test_commands_without_a_hub_point_to_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli("center", "list", "--data-dir", str(tmp_path))
    assert code == 2
    assert "iplat-hub init" in capsys.readouterr().err
