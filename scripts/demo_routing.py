"""The one-stop part of the demo: a battery-cell request asked once, routed to the centers
holding the equipment, accepted by each center's staff through its agent.

Everything goes through the real tools: ``iplat-hub requests preview|submit|show`` on the
hub, the folder inbox and ``iplat-agent requests accept`` at the centers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PY = sys.executable


def _run(*args: str) -> str:
    proc = subprocess.run([PY, "-m", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def request_body(now: datetime) -> dict[str, Any]:
    """Three R&D stages of a pouch-cell project; the stage guide proposes the equipment."""
    start = (now + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    end = (now + timedelta(days=29)).strftime("%Y-%m-%dT18:00")
    return {
        "company": {
            "name": "(주)한빛배터리 (demo)",
            "business_number": "124-81-00998",
            "contact_name": "김담당",
            "contact_email": "rnd@hanbit.example",
        },
        "project_title": "고에너지밀도 파우치 셀 개발",
        "technology_area": "secondary-battery-cell",
        "goal": "Validate a 60 Ah pouch cell for an e-mobility customer",
        "stages": ["design", "prototype", "validation"],
        "earliest": start,
        "latest": end,
        "hours": 8,
        "time_zone": "Asia/Seoul",
    }


def run(
    root: Path,
    hub_dir: Path,
    say: Callable[[str], None],
    wait_for: Callable[..., Any],
) -> None:
    body = root / "request.json"
    body.write_text(
        json.dumps(request_body(datetime.now(UTC)), ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    say("one-stop request: a battery-cell project names three R&D stages; the plan (preview)")
    print(_run("hub", "requests", "preview", "--file", str(body), "--data-dir", str(hub_dir)))
    view = json.loads(
        _run("hub", "requests", "submit", "--file", str(body), "--json", "--data-dir", str(hub_dir))
    )
    items = {
        i["item_id"]: i["candidate"]["center_id"] for n in view["needs"] for i in n["items"][-1:]
    }
    say(f"submitted {view['id']}: {len(items)} items routed to {sorted(set(items.values()))}")

    def in_inbox(item_id: str, center: str) -> bool:
        return (root / "agents" / center / "inbox" / "items" / f"{item_id}.json").exists()

    wait_for(
        "the items in the centers' inboxes", lambda: all(in_inbox(*kv) for kv in items.items())
    )
    say("every item is in its center's inbox folder (agents/<center>/inbox/items/); staff accept")
    for item_id, center in items.items():
        config = root / "agents" / center / "agent.toml"
        _run("agent", "requests", "accept", item_id, "--by", "demo staff", "--config", str(config))

    def accepted() -> bool:
        shown = json.loads(
            _run("hub", "requests", "show", view["id"], "--json", "--data-dir", str(hub_dir))
        )
        return bool(shown["state"] == "accepted")

    wait_for("the answers at the hub", accepted, timeout=30)
    say("the request as a portal sees it:")
    print(_run("hub", "requests", "show", view["id"], "--data-dir", str(hub_dir)))
