"""Enrollment tokens, revocation (evict/ban), client certificates, CA of each certificate.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Written out in full, like 0001, so that later edits of hub/store/schema.py never change
what this revision did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)
SERIAL = sa.String(64)
FINGERPRINT = sa.String(80)


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER much in place; on PostgreSQL this is plain ALTER TABLE.
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("ca_fingerprint", FINGERPRINT))
        batch.add_column(sa.Column("revoked_at", sa.BigInteger))
    op.create_table(
        "client_certificates",
        sa.Column("serial", SERIAL, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("not_after", sa.BigInteger, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("ca_fingerprint", FINGERPRINT),
        sa.Column("revoked_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("serial", name="pk_client_certificates"),
    )
    op.create_index(
        "ix_client_certificates_kind_name", "client_certificates", ["kind", "name"]
    )
    op.create_table(
        "enrollment_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used_at", sa.BigInteger),
        sa.Column("used_by", sa.Text),
        sa.Column("cert_serial", SERIAL),
        sa.Column("voided_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_enrollment_tokens"),
    )
    op.create_index("ix_enrollment_tokens_kind_name", "enrollment_tokens", ["kind", "name"])
    op.create_table(
        "center_access",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("banned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("banned_at", sa.BigInteger),
        sa.Column("evicted_at", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("center_id", name="pk_center_access"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_center_access_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "access_events",
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("action", CODE, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("seq", name="pk_access_events"),
    )


def downgrade() -> None:
    op.drop_table("access_events")
    op.drop_table("center_access")
    op.drop_table("enrollment_tokens")
    op.drop_table("client_certificates")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("ca_fingerprint")
