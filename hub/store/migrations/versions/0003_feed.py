"""The change feed (change_log, feed_state, center_feed) and HTTP API keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Written out in full, like 0001 and 0002, so that later edits of hub/store/schema.py never
change what this revision did.

A database that already holds records gets one ``upsert`` row per record, so that a portal
following the feed from the beginning ends with everything the hub has, not only what
changes after the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "change_log",
        # INTEGER on SQLite: the id is the rowid, one B-tree insert per row instead of two.
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=False,
        ),
        sa.Column("center_id", ID, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("op", CODE, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_change_log"),
    )
    op.create_table(
        "feed_state",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("pruned_through", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feed_state"),
    )
    op.create_table(
        "center_feed",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("stale", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("center_id", name="pk_center_feed"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_center_feed_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("role", CODE, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("name", name="uq_api_keys_name"),
    )
    # Existing records become the feed's first positions (equipment, then entries, each
    # by center and id); feed_state starts after them.
    op.execute(
        """
        INSERT INTO change_log (id, center_id, kind, record_id, op, at)
        SELECT ROW_NUMBER() OVER (ORDER BY center_id, id), center_id, 'equipment', id,
               'upsert', updated_at
        FROM equipment
        """
    )
    op.execute(
        """
        INSERT INTO change_log (id, center_id, kind, record_id, op, at)
        SELECT (SELECT COUNT(*) FROM equipment) + ROW_NUMBER() OVER (ORDER BY center_id, id),
               center_id, 'entry', id, 'upsert', updated_at
        FROM entries
        """
    )
    op.execute(
        """
        INSERT INTO feed_state (id, last_id, pruned_through)
        SELECT 1, COALESCE(MAX(id), 0), 0 FROM change_log
        """
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("center_feed")
    op.drop_table("feed_state")
    op.drop_table("change_log")
