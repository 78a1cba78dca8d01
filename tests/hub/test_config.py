from __future__ import annotations

from pathlib import Path

import pytest

from hub import config
from hub.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hub.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_empty_file_gives_documented_defaults(tmp_path: Path) -> None:
    cfg = config.load(_write(tmp_path, ""))
    assert cfg.trust_domain == "iplatform.local"
    assert cfg.listen == "127.0.0.1:7443"
    assert cfg.database_url == f"sqlite:///{tmp_path.resolve() / 'hub.db'}"
    assert (cfg.sync.heartbeat_seconds, cfg.sync.stale_after_seconds) == (5, 30)
    assert (cfg.sync.max_batch_changes, cfg.sync.max_inflight_batches) == (1000, 4)
    assert cfg.sync.reconcile_seconds == 600
    assert cfg.pki.agent_cert_days == 90
    assert cfg.tls.server_hosts == ()
    assert cfg.pki_paths.bundle == tmp_path.resolve() / "pki" / "bundle.pem"


def test_rendered_config_loads_back_unchanged(tmp_path: Path) -> None:
    original = config.HubConfig(
        data_dir=tmp_path.resolve(),
        trust_domain="hub.example.kr",
        listen="[::]:7443",
        database_url="postgresql+psycopg://hub@db/hub",
        tls=config.TlsSettings(server_hosts=("localhost", "hub.example.kr")),
        sync=config.SyncSettings(heartbeat_seconds=10, stale_after_seconds=60),
    )
    assert config.load(_write(tmp_path, config.render(original))) == original


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ("trust_domian = 'x'\n", "trust_domian: unknown key", "use one of: database_url"),
        (
            "[sync]\nheartbeat_second = 5\n",
            "[sync] heartbeat_second: unknown key",
            "heartbeat_seconds",
        ),
        ("[sync]\nheartbeat_seconds = '5'\n", "[sync] heartbeat_seconds", "write a whole number"),
        (
            "[sync]\nmax_batch_changes = 0\n",
            "[sync] max_batch_changes: 0 is out of range",
            "between 1 and 2000",
        ),
        (
            "[sync]\nheartbeat_seconds = 30\nstale_after_seconds = 30\n",
            "[sync] stale_after_seconds: 30 is not longer than heartbeat_seconds",
            "several heartbeats",
        ),
        ("listen = 'localhost'\n", "listen: 'localhost' is not HOST:PORT", "write HOST:PORT"),
        ("listen = 'h:99999'\n", "listen: port '99999'", "write HOST:PORT"),
        ("trust_domain = 'Bad Domain'\n", "trust_domain: invalid trust domain", "lower-case"),
        (
            "database_url = 'mysql://x'\n",
            "database_url: unsupported database 'mysql'",
            "postgresql+psycopg",
        ),
        ("[tls]\nserver_hosts = 'hub'\n", "[tls] server_hosts", "a list of strings"),
        ("sync = 3\n", "sync: must be a table", "[sync] section"),
        ("log_level = 'loud'\n", "log_level: 'loud' is not a level", "debug, info"),
        ("[pki]\nagent_cert_days = 0\n", "[pki] agent_cert_days", "between 1 and 825"),
    ],
)
def test_errors_name_file_key_and_fix(tmp_path: Path, text: str, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.load(_write(tmp_path, text))
    message = str(err.value)
    assert str(tmp_path.resolve() / "hub.toml") in message
    assert key in message
    assert "Fix:" in message and fix in message
    assert err.value.exit_code == 2


def test_missing_file_says_how_to_create_a_hub(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="iplat-hub init --data-dir"):
        config.load(tmp_path / "nowhere")


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hub\.toml: not valid TOML .*line 1"):
        config.load(_write(tmp_path, "listen = \n"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:7443", ("::1", 7443)), ("hub:1", ("hub", 1))],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert config.parse_listen(value) == expected
