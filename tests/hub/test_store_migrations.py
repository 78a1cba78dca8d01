from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hub.errors import StoreError
from hub.store import Store, engine
from hub.store.schema import metadata
from tests.hub.test_store_builders import CENTER, center, opened, sql


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_fresh_database_gets_every_table_at_head(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {"centers", "center_sync", "equipment", "entries", "certificates"} <= names
    with store.engine.connect() as conn:
        assert engine.current_revision(conn) == engine.head_revision()


def test_migrated_schema_matches_schema_py(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_second_open_is_a_no_op_and_keeps_data(db_url: str) -> None:
    first = opened(db_url, center())
    first.close()
    second = Store.open(db_url)
    try:
        assert [c.id for c in second.list_centers()] == [CENTER]
        assert sql(second, "SELECT version_num FROM alembic_version") == [(engine.head_revision(),)]
    finally:
        second.close()


def test_database_at_an_older_revision_is_upgraded_on_open(db_url: str) -> None:
    Store.open(db_url).close()
    # Take the database back to before the first revision, as an old install would be.
    s = Store.open(db_url)
    cfg = engine.alembic_config()
    with s.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "centers" not in inspect(s.engine).get_table_names()
    s.close()
    reopened = Store.open(db_url)
    try:
        reopened.add_center(center())
        assert reopened.get_center(CENTER) is not None
    finally:
        reopened.close()


def test_database_newer_than_the_code_is_refused(db_url: str) -> None:
    s = Store.open(db_url)
    sql(s, "UPDATE alembic_version SET version_num = 'ffff9999'")
    s.close()
    with pytest.raises(StoreError, match=r"ffff9999.*newer than this hub.*upgrade"):
        Store.open(db_url)


def test_unreachable_postgresql_names_the_url_and_what_to_check() -> None:
    url = "postgresql+psycopg://hub:secret@127.0.0.1:1/hubdb"
    with pytest.raises(StoreError) as info:
        Store.open(url)
    message = str(info.value)
    assert "127.0.0.1:1/hubdb" in message
    assert "secret" not in message
    assert "check that PostgreSQL is running" in message


def test_sqlite_in_a_missing_directory_says_what_to_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nope' / 'hub.db'}"
    with pytest.raises(StoreError, match="directory exists"):
        Store.open(url)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    path.write_bytes(b"this is a CSV file, not SQLite\n" * 100)
    with pytest.raises(StoreError, match=r"cannot be used.*points at the hub's database"):
        Store.open(f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("not a url", "invalid database URL"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://root@localhost/hub", "unsupported database"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
    ],
)
def test_bad_urls_are_refused_with_the_fix(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        Store.open(url)


def test_plain_postgresql_url_uses_psycopg() -> None:
    assert engine.parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_sqlite_connections_are_tuned(tmp_path: Path) -> None:
    s = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with s.engine.connect() as conn:
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA busy_timeout").scalar() == 30_000
            assert pragma("PRAGMA cache_size").scalar() == -engine.SQLITE_CACHE_KIB
    finally:
        s.close()
