"""``python -m hub`` is ``iplat-hub``."""

from __future__ import annotations

import os

# gRPC's C core writes plain-text lines to stderr (every failed TLS handshake at INFO),
# which would break the JSON-lines log. It reads this variable when grpc is first
# imported, hence before anything else; an explicit setting still wins.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from hub.cli import main

raise SystemExit(main())
