"""Initial schema: centers, center_sync, equipment, entries, certificates.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written out in full (not derived from hub/store/schema.py) so that later changes to
the code's table definitions never change what this revision did. The store tests
check that the migrated database matches schema.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "centers",
        sa.Column("id", ID, nullable=False),
        sa.Column("name_ko", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("industry", CODE, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("role", CODE, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Seoul"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_centers"),
    )
    op.create_table(
        "center_sync",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("hwm", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_sync", sa.BigInteger),
        sa.Column("last_seen", sa.BigInteger),
        sa.Column("connected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("agent_version", sa.Text, nullable=False, server_default=""),
        sa.Column("backlog", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("quarantined_deletes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("sources", sa.Text, nullable=False, server_default="[]"),
        sa.Column("last_reconcile", sa.Text),
        sa.Column("last_reconcile_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("center_id", name="pk_center_sync"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_center_sync_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "equipment",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name_ko", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("capabilities", sa.Text, nullable=False),
        sa.Column("manufacturer", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("year_acquired", sa.BigInteger, nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("stages", sa.Text, nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("fee_note", sa.Text, nullable=False),
        sa.Column("min_slot_minutes", sa.BigInteger),
        sa.Column("max_slot_minutes", sa.BigInteger),
        sa.Column("lead_time_minutes", sa.BigInteger),
        sa.Column("operating_hours", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("center_id", "id", name="pk_equipment"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_equipment_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_equipment_category", "equipment", ["category"])
    op.create_table(
        "entries",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("equipment_id", ID, nullable=False),
        sa.Column("start_at", sa.BigInteger, nullable=False),
        sa.Column("end_at", sa.BigInteger, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("center_id", "id", name="pk_entries"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_entries_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_entries_center_id_equipment_id_start_at",
        "entries",
        ["center_id", "equipment_id", "start_at"],
    )
    op.create_index("ix_entries_start_at_end_at", "entries", ["start_at", "end_at"])
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("center_id", ID, nullable=False),
        sa.Column("not_after", sa.BigInteger, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("serial", name="pk_certificates"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_certificates_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_certificates_center_id", "certificates", ["center_id"])


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("entries")
    op.drop_table("equipment")
    op.drop_table("center_sync")
    op.drop_table("centers")
