"""One-stop routing: requests, their needs and routed items, deliveries, demand signals.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09

A company's request (``service_requests``) holds one row per need (``request_needs``: the
need, where it came from, the candidates planned at submit time, why it is unserved, the
centers already tried) and one row per routing attempt (``request_items``: the center and
equipment it went to, its state, deadline and the center's answer). ``request_events`` is
the request's history as portals see it. ``center_deliveries`` holds each center's routed
items and withdrawals as serialized ``pb.Delivery`` until the agent acknowledges them;
``delivery_cursor`` is the per-center seq allocator (its row is locked while allocating).
``demand_signals`` counts what was asked for and not found, for the upgrade program.

Written out in full, like the revisions before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)
REQUEST_ID = sa.String(32)
ACTOR = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "service_requests",
        sa.Column("id", REQUEST_ID, nullable=False),
        sa.Column("state", CODE, nullable=False),
        sa.Column("submitted_by", ACTOR, nullable=False),
        sa.Column("client_request_id", ACTOR, nullable=False, server_default=""),
        sa.Column("company_name", sa.Text, nullable=False),
        sa.Column("business_number", sa.String(16), nullable=False),
        sa.Column("contact_name", sa.Text, nullable=False),
        sa.Column("contact_email", sa.Text, nullable=False, server_default=""),
        sa.Column("contact_phone", sa.Text, nullable=False, server_default=""),
        sa.Column("project_title", sa.Text, nullable=False),
        sa.Column("technology_area", ID, nullable=False),
        sa.Column("industry", CODE, nullable=False),
        sa.Column("goal", sa.Text, nullable=False, server_default=""),
        sa.Column("coordinator_center_id", ID),
        sa.Column("coordinator_name", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_requests"),
    )
    op.create_index(
        "ix_service_requests_created_at_id", "service_requests", ["created_at", "id"]
    )
    op.create_index(
        "ix_service_requests_state_created_at", "service_requests", ["state", "created_at"]
    )
    op.create_index(
        "ix_service_requests_submitted_by_created_at",
        "service_requests",
        ["submitted_by", "created_at"],
    )
    op.create_index(
        "ix_service_requests_client_request",
        "service_requests",
        ["submitted_by", "client_request_id"],
        unique=True,
        sqlite_where=sa.text("client_request_id <> ''"),
        postgresql_where=sa.text("client_request_id <> ''"),
    )
    op.create_table(
        "request_needs",
        sa.Column("request_id", REQUEST_ID, nullable=False),
        sa.Column("need_index", sa.Integer, nullable=False),
        sa.Column("stage", CODE, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("capabilities", sa.Text, nullable=False, server_default="[]"),
        sa.Column("service", CODE),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("earliest", sa.BigInteger, nullable=False),
        sa.Column("latest", sa.BigInteger, nullable=False),
        sa.Column("region", sa.Text),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", CODE, nullable=False),
        sa.Column("plan", sa.Text, nullable=False, server_default="[]"),
        sa.Column("unserved_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("tried_centers", sa.Text, nullable=False, server_default="[]"),
        sa.PrimaryKeyConstraint("request_id", "need_index", name="pk_request_needs"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name="fk_request_needs_request_id_service_requests",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "request_items",
        sa.Column("item_id", ID, nullable=False),
        sa.Column("request_id", REQUEST_ID, nullable=False),
        sa.Column("need_index", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("center_id", ID, nullable=False),
        sa.Column("equipment_id", ID, nullable=False),
        sa.Column("candidate", sa.Text, nullable=False),
        sa.Column("state", CODE, nullable=False),
        sa.Column("routed_at", sa.BigInteger, nullable=False),
        sa.Column("deadline", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger),
        sa.Column("answered_at", sa.BigInteger),
        sa.Column("start_at", sa.BigInteger),
        sa.Column("end_at", sa.BigInteger),
        sa.Column("decline_reason", CODE, nullable=False, server_default=""),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("answered_by", sa.Text, nullable=False, server_default=""),
        sa.Column("answer_key", sa.Text, nullable=False, server_default=""),
        sa.Column("closed_at", sa.BigInteger),
        sa.Column("closed_reason", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("item_id", name="pk_request_items"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name="fk_request_items_request_id_service_requests",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_request_items_request_id_need_index",
        "request_items",
        ["request_id", "need_index"],
    )
    op.create_index("ix_request_items_state_deadline", "request_items", ["state", "deadline"])
    op.create_index("ix_request_items_center_id_state", "request_items", ["center_id", "state"])
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("request_id", REQUEST_ID, nullable=False),
        sa.Column("item_id", ID, nullable=False, server_default=""),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", ACTOR, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_request_events"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name="fk_request_events_request_id_service_requests",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_request_events_request_id_id", "request_events", ["request_id", "id"])
    op.create_table(
        "delivery_cursor",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("acked_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("center_id", name="pk_delivery_cursor"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_delivery_cursor_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "center_deliveries",
        sa.Column("center_id", ID, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("center_id", "seq", name="pk_center_deliveries"),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name="fk_center_deliveries_center_id_centers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "demand_signals",
        sa.Column("kind", CODE, nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("center_id", ID, nullable=False, server_default=""),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("first_at", sa.BigInteger, nullable=False),
        sa.Column("last_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("kind", "category", "center_id", name="pk_demand_signals"),
    )


def downgrade() -> None:
    op.drop_table("demand_signals")
    op.drop_table("center_deliveries")
    op.drop_table("delivery_cursor")
    op.drop_index("ix_request_events_request_id_id", table_name="request_events")
    op.drop_table("request_events")
    op.drop_index("ix_request_items_center_id_state", table_name="request_items")
    op.drop_index("ix_request_items_state_deadline", table_name="request_items")
    op.drop_index("ix_request_items_request_id_need_index", table_name="request_items")
    op.drop_table("request_items")
    op.drop_table("request_needs")
    op.drop_index("ix_service_requests_client_request", table_name="service_requests")
    op.drop_index("ix_service_requests_submitted_by_created_at", table_name="service_requests")
    op.drop_index("ix_service_requests_state_created_at", table_name="service_requests")
    op.drop_index("ix_service_requests_created_at_id", table_name="service_requests")
    op.drop_table("service_requests")
