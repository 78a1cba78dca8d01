"""Operator health: per-agent heartbeat interval, backlog trend, commit lag, sync history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``center_sync`` gains what ``iplat-hub status``, /metrics and the dashboard derive center
health from (hub/health): the heartbeat interval the agent announced in Hello (its states'
thresholds), when its last heartbeat arrived, the change-to-commit lag the serving hub
measured, and since when its backlog has not shrunk. ``center_events`` is each center's
recent sync history (sessions, syncs, reconciliations, source failures), pruned to the
newest rows per center as it is written.

Written out in full, like the revisions before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("center_sync") as batch:
        batch.add_column(sa.Column("heartbeat_seconds", sa.Integer))
        batch.add_column(sa.Column("last_heartbeat_at", sa.BigInteger))
        batch.add_column(sa.Column("commit_lag_seconds", sa.Float))
        batch.add_column(sa.Column("backlog_since", sa.BigInteger))
        batch.add_column(sa.Column("backlog_since_value", sa.BigInteger))
    op.create_table(
        "center_events",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("center_id", ID, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("id", name="pk_center_events"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_center_events_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_center_events_center_id_id", "center_events", ["center_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_center_events_center_id_id", table_name="center_events")
    op.drop_table("center_events")
    with op.batch_alter_table("center_sync") as batch:
        batch.drop_column("backlog_since_value")
        batch.drop_column("backlog_since")
        batch.drop_column("commit_lag_seconds")
        batch.drop_column("last_heartbeat_at")
        batch.drop_column("heartbeat_seconds")
