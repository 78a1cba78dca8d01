"""``python -m installer`` is ``iplat-install``."""

from __future__ import annotations

from installer.cli import main

raise SystemExit(main())
