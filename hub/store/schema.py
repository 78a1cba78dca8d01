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
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
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
    # Operator health (revision 0005, hub/health): the interval the agent announced in
    # Hello (NULL: not announced), its last heartbeat, the change-to-commit lag measured
    # by the serving hub, and since when (and from what) its backlog has not shrunk.
    Column("heartbeat_seconds", Integer),
    Column("last_heartbeat_at", BigInteger),
    Column("commit_lag_seconds", Float),
    Column("backlog_since", BigInteger),
    Column("backlog_since_value", BigInteger),
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

# Entries longer than a day (revision 0004). Availability reads the entries overlapping a
# window in two bounded range scans: start_at >= (window start - 1 day) on the index
# above for the short ones, and this partial index, which holds only the rare long ones.
Index(
    "ix_entries_long",
    entries.c.center_id,
    entries.c.equipment_id,
    entries.c.start_at,
    sqlite_where=text("end_at - start_at > 86400"),
    postgresql_where=text("end_at - start_at > 86400"),
)

SERIAL = String(64)
FINGERPRINT = String(80)

# Certificates issued to centers' agents. ca_fingerprint (revision 0002) names the CA that
# signed it, so `iplat-hub ca retire` can tell which certificates still depend on a CA;
# NULL for rows recorded before 0002 (treated as depending on every CA). revoked_at is set
# by evict/ban: the hub refuses the certificate from then on, whatever its expiry.
certificates = Table(
    "certificates",
    metadata,
    Column("serial", SERIAL, primary_key=True),
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("ca_fingerprint", FINGERPRINT),
    Column("revoked_at", BigInteger),
    Index(None, "center_id"),
)

# Certificates of portals and operators (`iplat-hub client add`, Enroll, renewal).
client_certificates = Table(
    "client_certificates",
    metadata,
    Column("serial", SERIAL, primary_key=True),
    Column("kind", CODE, nullable=False),
    Column("name", ID, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("ca_fingerprint", FINGERPRINT),
    Column("revoked_at", BigInteger),
    Index(None, "kind", "name"),
)

# One-time enrollment tokens. Only a SHA-256 of the secret is stored; the public id is the
# lookup key. A token is consumed by the conditional UPDATE ... WHERE used_at IS NULL that
# also records the certificate it bought, so two concurrent uses cannot both win.
enrollment_tokens = Table(
    "enrollment_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("kind", CODE, nullable=False),
    Column("name", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
    Column("used_by", Text),
    Column("cert_serial", SERIAL),
    Column("voided_at", BigInteger),
    Index(None, "kind", "name"),
)

# Evictions and bans. A row exists once a center was evicted or banned.
center_access = Table(
    "center_access",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("banned", Boolean, nullable=False, server_default=false()),
    Column("banned_at", BigInteger),
    Column("evicted_at", BigInteger),
    Column("reason", Text, nullable=False, server_default=""),
)

# Append-only log of access changes. Serving hubs poll it (seq > last seen: one index
# probe) to close streams and refuse certificates within a poll interval, whichever
# process made the change.
access_events = Table(
    "access_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("name", ID, nullable=False),
    Column("action", CODE, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
)

FEED_ID = BigInteger().with_variant(Integer(), "sqlite")

# The change feed (revision 0003). One row per record write of an apply, appended in the
# apply's transaction, so the feed shows exactly what committed. ``id`` is the feed
# position: allocated from feed_state under its row lock at the end of the transaction
# (hub.store.changelog says why not a sequence), never reused; ``kind`` is equipment,
# entry or center; ``op`` is upsert or delete (records), stale or fresh (centers). No
# foreign key: the log is history and must stay cheap to append.
change_log = Table(
    "change_log",
    metadata,
    # INTEGER on SQLite makes id the rowid itself (BIGINT would add a second B-tree).
    Column("id", FEED_ID, primary_key=True, autoincrement=False),
    Column("center_id", ID, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("record_id", ID, nullable=False),
    Column("op", CODE, nullable=False),
    Column("at", BigInteger, nullable=False),
)

# Exactly one row (id = 1): the last feed position handed out, and the position up to
# which the log was pruned (tokens below it must resync from a snapshot).
feed_state = Table(
    "feed_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", BigInteger, nullable=False),
    Column("pruned_through", BigInteger, nullable=False),
)

# The freshness of each center as last announced on the feed (stale/fresh events), so
# that every hub process sharing the database announces a transition once.
center_feed = Table(
    "center_feed",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("stale", Boolean, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

# API keys of the HTTP API: ``ipk_<id>.<secret>``; only the secret's SHA-256 is stored.
# Revoked keys stay (revoked_at set) so that their use is answered 403, not 401.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", ID, nullable=False, unique=True),
    Column("role", CODE, nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# Each center's recent sync history for operators (revision 0005): sessions, syncs,
# reconciliations, source failures. ``detail`` is JSON. Pruned to the newest rows per
# center as it is written (hub.store.events).
center_events = Table(
    "center_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("detail", Text, nullable=False, server_default="{}"),
    Index(None, "center_id", "id"),
)

# -- one-stop routing (revision 0006, hub.routing) ---------------------------------------

REQUEST_ID = String(32)
ACTOR = String(128)

# A company's request. ``state`` is derived from its needs (hub.store.routing.derive_state)
# and stored so lists can filter on it. A caller's client_request_id is unique per caller
# (a retried SubmitRequest finds its request); empty means none.
service_requests = Table(
    "service_requests",
    metadata,
    Column("id", REQUEST_ID, primary_key=True),
    Column("state", CODE, nullable=False),
    Column("submitted_by", ACTOR, nullable=False),
    Column("client_request_id", ACTOR, nullable=False, server_default=""),
    Column("company_name", Text, nullable=False),
    Column("business_number", String(16), nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("contact_email", Text, nullable=False, server_default=""),
    Column("contact_phone", Text, nullable=False, server_default=""),
    Column("project_title", Text, nullable=False),
    Column("technology_area", ID, nullable=False),
    Column("industry", CODE, nullable=False),
    Column("goal", Text, nullable=False, server_default=""),
    Column("coordinator_center_id", ID),
    Column("coordinator_name", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Lists page newest first by (created_at, id), optionally by state or caller.
    Index(None, "created_at", "id"),
    Index(None, "state", "created_at"),
    Index(None, "submitted_by", "created_at"),
    Index(
        "ix_service_requests_client_request",
        "submitted_by",
        "client_request_id",
        unique=True,
        sqlite_where=text("client_request_id <> ''"),
        postgresql_where=text("client_request_id <> ''"),
    ),
)

# One row per need: the need itself, where it came from (request or guide), the
# candidates planned at submit time (JSON), why it is unserved (empty while not), and the
# centers already tried (JSON list; re-routing excludes them).
request_needs = Table(
    "request_needs",
    metadata,
    Column(
        "request_id",
        REQUEST_ID,
        ForeignKey("service_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("need_index", Integer, primary_key=True, autoincrement=False),
    Column("stage", CODE, nullable=False),
    Column("category", Text),
    Column("capabilities", Text, nullable=False, server_default="[]"),
    Column("service", CODE),
    Column("hours", Float, nullable=False),
    Column("earliest", BigInteger, nullable=False),
    Column("latest", BigInteger, nullable=False),
    Column("region", Text),
    Column("note", Text, nullable=False, server_default=""),
    Column("origin", CODE, nullable=False),
    Column("plan", Text, nullable=False, server_default="[]"),
    Column("unserved_reason", Text, nullable=False, server_default=""),
    Column("tried_centers", Text, nullable=False, server_default="[]"),
)

# One row per routing attempt of a need. No foreign key to centers or equipment: the item
# is history and stays when the equipment goes. ``answer_key`` fingerprints the applied
# answer so a replay is told apart from a different answer; closed_at/closed_reason say
# when and why the hub took the item back (withdrawn) or gave up on it (expired).
request_items = Table(
    "request_items",
    metadata,
    Column("item_id", ID, primary_key=True),
    Column(
        "request_id",
        REQUEST_ID,
        ForeignKey("service_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("need_index", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("center_id", ID, nullable=False),
    Column("equipment_id", ID, nullable=False),
    Column("candidate", Text, nullable=False),
    Column("state", CODE, nullable=False),
    Column("routed_at", BigInteger, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
    Column("answered_at", BigInteger),
    Column("start_at", BigInteger),
    Column("end_at", BigInteger),
    Column("decline_reason", CODE, nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("answered_by", Text, nullable=False, server_default=""),
    Column("answer_key", Text, nullable=False, server_default=""),
    Column("closed_at", BigInteger),
    Column("closed_reason", Text, nullable=False, server_default=""),
    Index(None, "request_id", "need_index"),
    # The sweep (open items past their deadline) and the queue (open items oldest first).
    Index(None, "state", "deadline"),
    # A center's load (open items) and the requests routed to it.
    Index(None, "center_id", "state"),
)

# The request's history as portals see it; actor is "hub", "center:<id>", "portal:<name>"...
request_events = Table(
    "request_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "request_id",
        REQUEST_ID,
        ForeignKey("service_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("item_id", ID, nullable=False, server_default=""),
    Column("at", BigInteger, nullable=False),
    Column("actor", ACTOR, nullable=False),
    Column("kind", CODE, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Index(None, "request_id", "id"),
)

# Per-center delivery seqs: the highest allocated and the highest the agent acknowledged.
# Allocation locks the row (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer).
delivery_cursor = Table(
    "delivery_cursor",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("acked_seq", BigInteger, nullable=False, server_default="0"),
)

# Serialized pb.Delivery messages (kind "item" or "withdrawal") not yet acknowledged; an
# acknowledgement deletes them, so the table holds only what is in flight.
center_deliveries = Table(
    "center_deliveries",
    metadata,
    Column("center_id", ID, ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", CODE, nullable=False),
    Column("item_id", ID, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Counts of demand the platform could not meet, per kind, category and center ("" when
# not tied to one center); upserts increment ``count``.
demand_signals = Table(
    "demand_signals",
    metadata,
    Column("kind", CODE, primary_key=True),
    Column("category", String(200), primary_key=True),
    Column("center_id", ID, primary_key=True, server_default=""),
    Column("count", BigInteger, nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("last_at", BigInteger, nullable=False),
)

__all__ = [
    "access_events",
    "api_keys",
    "center_access",
    "center_deliveries",
    "center_events",
    "center_feed",
    "center_sync",
    "centers",
    "certificates",
    "change_log",
    "client_certificates",
    "delivery_cursor",
    "demand_signals",
    "enrollment_tokens",
    "entries",
    "equipment",
    "feed_state",
    "metadata",
    "request_events",
    "request_items",
    "request_needs",
    "service_requests",
]
