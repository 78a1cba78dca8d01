"""``python -m hub`` is ``iplat-hub``."""

from __future__ import annotations

from hub.cli import main

raise SystemExit(main())
