"""Alembic environment for the hub store.

Run through ``hub.store.engine.migrate`` (called by ``Store.open``), which passes
its own connection, already inside a write transaction, in
``config.attributes["connection"]``. There is no alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

from hub.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "hub.store migrations run only through Store.open(url) (or `iplat-hub init`), "
        "which supplies the database connection"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
