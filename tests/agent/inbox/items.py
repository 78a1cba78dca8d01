"""Agent directories, work items and deliveries for the inbox tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.config import AgentConfig
from agent.inbox.folder import FolderSink
from agent.inbox.store import InboxItem
from agent.templates import CALENDAR_CSV_TEMPLATE, EQUIPMENT_CSV_TEMPLATE
from hub import pki
from proto import pb, timeconv
from tests.helpers.agentenv import AgentDir
from tests.helpers.pki import center_identity, session_pki

CENTER = "KR-MR-0001"
REQUEST = "RQ-0123456789"
HOUR = 3600
DAY = 24 * HOUR


def make_agent_dir(directory: Path, hub: str = "localhost:1", inbox: str = "") -> AgentDir:
    """An agent dir with a certificate of the session CA (no hub needed to make it)."""
    directory.mkdir(parents=True, exist_ok=True)
    test_pki = session_pki()
    issued = test_pki.ca.issue_key_and_cert(center_identity(CENTER), days=365)
    pki.write_atomic(directory / "agent.key", issued.key_pem, private=True)
    pki.write_atomic(directory / "agent.crt", issued.cert_pem)
    pki.write_atomic(directory / "ca.pem", test_pki.bundle)
    (directory / "equipment.csv").write_text(EQUIPMENT_CSV_TEMPLATE, encoding="utf-8")
    (directory / "calendar.csv").write_text(CALENDAR_CSV_TEMPLATE, encoding="utf-8")
    (directory / "agent.toml").write_text(
        f'center_id = "{CENTER}"\nhub = "{hub}"\nlog_level = "debug"\n\n'
        "[sync]\npoll_seconds = 2\nbackoff_initial_seconds = 0.2\nbackoff_max_seconds = 1.0\n\n"
        '[[sources]]\nname = "equipment"\ntype = "csv"\nkind = "equipment"\n'
        'path = "equipment.csv"\n\n'
        '[[sources]]\nname = "calendar"\ntype = "csv"\nkind = "calendar"\n'
        'path = "calendar.csv"\n\n' + (f"[inbox]\n{inbox}\n" if inbox else ""),
        encoding="utf-8",
    )
    return AgentDir(directory, CENTER)


def ts(seconds: float) -> Any:
    return timeconv.from_epoch(int(seconds))


def work_item(n: int = 1, *, request: str = REQUEST, now: float | None = None) -> Any:
    """A routed item answerable now: the suggested slot is three days ahead."""
    now = time.time() if now is None else now
    # Midnight in Seoul (the agent's default zone), three days ahead.
    day0 = int((now + 9 * HOUR) // DAY) * DAY - 9 * HOUR + 3 * DAY
    return pb.WorkItem(
        item_id=f"{request}-{n}-1",
        request_id=request,
        attempt=1,
        company=pb.Company(
            name="(주)배터리랩",
            business_number="123-45-67890",
            contact_name="김연구",
            contact_email="kim@battery.example.kr",
            contact_phone="010-1234-5678",
        ),
        project_title="파우치 셀 시제품",
        technology_area="secondary-battery-cell",
        goal="develop a secondary-battery cell",
        coordinator=pb.Coordinator(
            center_id="KR-RP-0001", name="대표기관", industry=pb.INDUSTRY_MATERIALS
        ),
        equipment_id=f"EQ-{n}",
        need=pb.Need(
            stage=pb.RD_STAGE_PROTOTYPE,
            category="battery-cycler",
            capabilities=["cycling", "impedance"],
            service=pb.SERVICE_KIND_TEST_ANALYSIS,
            hours=3,
            earliest=ts(day0),
            latest=ts(day0 + 10 * DAY),
            region="경남",
            note="bring own cells",
        ),
        slot_start=ts(day0 + 9 * HOUR),
        slot_end=ts(day0 + 12 * HOUR),
        deadline=ts(now + 2 * DAY),
        routed_at=ts(now),
    )


def item_delivery(seq: int, n: int = 1, **kw: Any) -> Any:
    return pb.Delivery(seq=seq, item=work_item(n, **kw))


def withdrawal(seq: int, item_id: str, reason: str = "request cancelled by the company") -> Any:
    return pb.Delivery(seq=seq, withdrawal=pb.Withdrawal(item_id=item_id, reason=reason))


def item_id(n: int = 1) -> str:
    return f"{REQUEST}-{n}-1"


def ahead(days: int, hour: int) -> str:
    """``YYYY-MM-DDTHH:00`` in Seoul, ``days`` from today: times staff would type."""
    day = datetime.now(ZoneInfo("Asia/Seoul")).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


class CountingSink(FolderSink):
    """The folder sink, counting what it is asked to write."""

    def __init__(self, config: AgentConfig) -> None:
        super().__init__(config, config.state_path.parent / "inbox")
        self.puts: list[tuple[str, str]] = []

    def put(self, item: InboxItem) -> None:
        self.puts.append((item.item_id, item.state))
        super().put(item)


def confirmation(seq: int, item_id: str, start: int, end: int) -> Any:
    return pb.Delivery(
        seq=seq,
        confirmation=pb.Confirmation(
            item_id=item_id, start=timeconv.from_epoch(start), end=timeconv.from_epoch(end)
        ),
    )
