"""The hub's tables (SQLAlchemy Core). Alembic migrations create them; this is the
code's view, checked against the migrated database by the tests.

Conventions: instants are BIGINT epoch seconds (UTC) so overlap queries are plain
integer comparisons on both backends; enums are stored as the readable text codes
of ``proto.codes``; lists are JSON text (order preserved, so records rebuilt from
the columns hash the same as the agent's).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from hub.store.model import DEFAULT_TIME_ZONE

ID = String(64)
CODE = String(32)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

centers = Table(
    "centers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name_ko", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("industry", CODE, nullable=False),
    Column("region", Text, nullable=False),
    Column("role", CODE, nullable=False),
    Column("time_zone", String(64), nullable=False, server_default=DEFAULT_TIME_ZONE),
    Column("created_at", BigInteger, nullable=False),
)

center_sync = Table(
    "center_sync",
    metadata,
    Column(
        "center_id",
        ID,
        ForeignKey("centers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("hwm", BigInteger, nullable=False, server_default="0"),
    Column("last_sync", BigInteger),
    Column("last_seen", BigInteger),
    Column("connected", Boolean, nullable=False, server_default=false()),
    Column("agent_version", Text, nullable=False, server_default=""),
    Column("backlog", BigInteger, nullable=False, server_default="0"),
    Column("quarantined_deletes", BigInteger, nullable=False, server_default="0"),
    Column("sources", Text, nullable=False, server_default="[]"),
    Column("last_reconcile", Text),
    Column("last_reconcile_at", BigInteger),
)

# One column per field of pb.Equipment. Booking rules are three nullable columns:
# NULL means the message had no booking_rules at all, which serialises differently
# from a present all-zero one.
equipment = Table(
    "equipment",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name_ko", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("capabilities", Text, nullable=False),
    Column("manufacturer", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("year_acquired", BigInteger, nullable=False),
    Column("status", CODE, nullable=False),
    Column("stages", Text, nullable=False),
    Column("services", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("fee_note", Text, nullable=False),
    Column("min_slot_minutes", BigInteger),
    Column("max_slot_minutes", BigInteger),
    Column("lead_time_minutes", BigInteger),
    Column("operating_hours", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "category"),
)

# No foreign key to equipment: an agent may send an entry before (or keep it
# after) its equipment, and the hub stores what the center has.
entries = Table(
    "entries",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("equipment_id", ID, nullable=False),
    Column("start_at", BigInteger, nullable=False),
    Column("end_at", BigInteger, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "center_id", "equipment_id", "start_at"),
    # Overlap with [a, b): start_at < b AND end_at > a, with start_at bounded below
    # by a - (longest entry) so the range scan stays short.
    Index(None, "start_at", "end_at"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Index(None, "center_id"),
)

__all__ = ["center_sync", "centers", "certificates", "entries", "equipment", "metadata"]
