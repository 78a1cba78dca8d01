"""Wire limits both sides enforce; a peer that exceeds them gets a clear error."""

# gRPC's default receive limit is 4 MiB; batches are sized well under it.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_BATCH_CHANGES = 2000
DEFAULT_MAX_INFLIGHT_BATCHES = 4
DEFAULT_HEARTBEAT_SECONDS = 5
DEFAULT_RECONCILE_SECONDS = 600
RECONCILE_BUCKETS = 256

# Record field limits (see proto.validate).
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_LIST_ITEMS = 64
# An entry longer than this is treated as a data error, not busy time.
MAX_ENTRY_SECONDS = 366 * 24 * 3600
# Instants outside [2000, 2100) are data errors.
MIN_EPOCH = 946_684_800
MAX_EPOCH = 4_102_444_800
