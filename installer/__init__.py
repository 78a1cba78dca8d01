"""``iplat-install``: what a center's IT staff run to install, enroll, start and remove an agent.

Public surface: :func:`installer.cli.main` (the console script) and the error tree in
:mod:`installer.errors`. The installer imports neither the agent nor the hub: it drives the
installed agent through its command line.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("iplatform-sync")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
