"""Engine creation, transactions and schema migration for the hub store.

SQLite: every connection gets WAL, a busy timeout, foreign keys, synchronous=NORMAL
and a bigger page cache. sqlite3's own transaction handling is switched off and
SQLAlchemy emits BEGIN itself (the pysqlite recipe in SQLAlchemy's SQLite docs), so
that write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken
before the first read, and a read-then-write (the per-center high-water mark)
cannot race another writer.

PostgreSQL (``postgresql+psycopg://``): per-center ordering comes from
``SELECT ... FOR UPDATE`` in the apply transaction; concurrent opens serialise
their migrations on an advisory lock.

Database errors about reaching the database are translated into ``StoreError``
here, in one place, naming the URL (without password) and what to check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from hub.errors import StoreError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Negative cache_size is KiB: 64 MiB keeps a large equipment/entries index hot
# and cut WAL-checkpoint slowdowns on big tables (DESIGN.md section 9).
SQLITE_CACHE_KIB = 64 * 1024
# Pages in the WAL before a commit checkpoints it into the database (SQLite's default is
# 1,000 = 4 MiB). Fewer, larger checkpoints write a page changed by many batches once,
# and save a database fsync per 4 MiB of ingest: +25-30% bulk upsert rate measured by
# bench/ (docs/benchmarks.md). Commits are unaffected (WAL + synchronous=NORMAL: a
# commit survives a process crash; a power loss can lose only the last commits). The
# cost: a WAL of up to ~40 MiB and a longer replay after a crash.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
PG_CONNECT_TIMEOUT_SECONDS = 10
# Arbitrary constant shared by all hub processes: "iplat" in ASCII.
MIGRATION_LOCK_KEY = 0x69706C6174

_WRITE_OPTION = "iplat_write"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

URL_HELP = (
    "use sqlite:///PATH/hub.db (a file; the directory must exist) or "
    "postgresql+psycopg://USER@HOST:PORT/DATABASE"
)


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r} ({exc}); {URL_HELP}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        driver = parsed.get_driver_name()
        if parsed.drivername == "postgresql":
            return parsed.set(drivername="postgresql+psycopg")
        if driver != "psycopg":
            raise StoreError(
                f"database URL {safe_url(parsed)!r} uses driver {driver!r}; "
                "the hub supports psycopg 3: write postgresql+psycopg://..."
            )
        return parsed
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:") or (parsed.database or "").startswith(
            "file::memory:"
        ):
            raise StoreError(
                f"database URL {url!r} is an in-memory SQLite database, which each "
                f"connection would see separately; {URL_HELP}"
            )
        return parsed
    raise StoreError(f"unsupported database {backend!r} in {safe_url(parsed)!r}; {URL_HELP}")


def create(url: URL) -> Engine:
    """An engine for ``url`` (from ``parse_url``), with the per-connection setup."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Stop sqlite3 from emitting its own (late, deferred) BEGIN; _sqlite_on_begin does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def unreachable(engine: Engine, exc: sa_exc.DBAPIError) -> StoreError:
    url = safe_url(engine.url)
    if engine.dialect.name == "sqlite":
        hint = "check that the directory exists, is writable and the disk is not full"
    else:
        hint = (
            "check that PostgreSQL is running and reachable from this host, that the "
            "database exists and the user may connect"
        )
    detail = str(exc.orig).strip() or type(exc.orig).__name__
    return StoreError(f"database {url} failed: {detail}; {hint}")


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction (SQLite: ``BEGIN IMMEDIATE``); commits on normal exit."""
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise unreachable(engine, exc) from exc


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read transaction that sees one consistent snapshot on both backends."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise unreachable(engine, exc) from exc


def alembic_config() -> Config:
    """Alembic configured from code, so migrations work from an installed package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError("the hub's migration scripts are missing; reinstall iplatform-sync")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` in one write transaction; refuse a newer database."""
    try:
        _migrate(engine)
    except sa_exc.DatabaseError as exc:
        # E.g. SQLite "file is not a database", or a PostgreSQL user without CREATE.
        raise StoreError(
            f"database {safe_url(engine.url)} cannot be used: {str(exc.orig).strip()}; "
            "check that the URL points at the hub's database (or an empty one) and that "
            "the user may create tables"
        ) from exc


def _migrate(engine: Engine) -> None:
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    with write_tx(engine) as conn:
        if engine.dialect.name == "postgresql":
            # Two hub processes starting together must not both create the tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        current = MigrationContext.configure(conn).get_current_heads()
        newer = [rev for rev in current if rev not in known]
        if newer:
            raise StoreError(
                f"database {safe_url(engine.url)} has schema revision {', '.join(newer)}, "
                f"newer than this hub knows (up to {script.get_current_head()}); "
                "upgrade iplatform-sync on this host or point the hub at the right database"
            )
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except CommandError as exc:
            raise StoreError(
                f"migrating database {safe_url(engine.url)} failed: {exc}; "
                "restore the database from a backup or ask the hub maintainers"
            ) from exc
    log.debug("database %s at schema revision %s", safe_url(engine.url), script.get_current_head())
