"""The iplatform-sync agent: reads a center's sources and syncs them to the hub.

GRPC_VERBOSITY: see hub/__init__.py; the same holds for ``iplat-agent``.
"""

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
