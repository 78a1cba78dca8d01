"""The iplatform-sync hub: terminates mutual TLS, applies centers' changes, serves the view.

gRPC's C core writes plain-text lines to stderr (every failed TLS handshake at
INFO), which would break the JSON-lines log. It reads GRPC_VERBOSITY when grpc
is first imported, and the ``iplat-hub`` console script imports this package
before anything imports grpc; an explicit setting still wins.
"""

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
