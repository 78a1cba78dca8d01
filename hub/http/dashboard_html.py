"""The dashboard's HTML pieces: bilingual labels and the cells, rows and lists its pages
are made of. :mod:`hub.http.dashboard` assembles pages from them; ``static/ops.js`` redraws
the same structures from JSON, so the two must stay in step (class names, data attributes,
formats).
"""

from __future__ import annotations

import html
import json
from typing import Any

from hub.health import STATES, CenterHealth, FleetReport
from hub.health.problems import Text, duration, severity_rank
from proto import timeconv

INDUSTRIES: dict[str, Text] = {
    "machinery-robotics": Text("Machinery & robotics", "기계로봇"),
    "bio": Text("Bio", "바이오"),
    "materials": Text("Materials", "소재"),
    "automotive-aerospace": Text("Automotive & aerospace", "자동차항공"),
    "electrical-electronics": Text("Electrical & electronics", "전기전자"),
    "shipbuilding-ocean": Text("Shipbuilding & ocean", "조선해양"),
}
STATE_NAMES: dict[str, Text] = {
    "online": Text("online", "온라인"),
    "stale": Text("stale", "지연"),
    "offline": Text("offline", "오프라인"),
    "missing": Text("missing", "연락 두절"),
    "enrolled": Text("never connected", "미접속"),
    "registered": Text("registered", "등록됨"),
    "evicted": Text("evicted", "퇴출됨"),
    "banned": Text("banned", "차단됨"),
}
EVENT_NAMES: dict[str, Text] = {
    "connected": Text("connected", "접속"),
    "disconnected": Text("disconnected", "접속 끊김"),
    "synced": Text("synced", "동기화"),
    "reconciled": Text("reconciled", "정합성 검사"),
    "source_failing": Text("source failing", "소스 오류"),
    "source_recovered": Text("source recovered", "소스 복구"),
    "deletes_held": Text("deletions held", "삭제 보류"),
}
COLUMNS: tuple[tuple[str, Text, str], ...] = (
    # (sort key, header, extra class)
    ("center", Text("Center", "센터"), ""),
    ("industry", Text("Industry", "산업"), "opt"),
    ("state", Text("State", "상태"), ""),
    ("seen", Text("Last heard", "마지막 수신"), ""),
    ("backlog", Text("Backlog", "백로그"), "num"),
    ("lag", Text("Lag", "지연 시간"), "num opt"),
    ("cert", Text("Cert expires", "인증서 만료"), "opt"),
    ("agent", Text("Agent", "에이전트"), "opt"),
    ("problems", Text("Problems", "문제"), "wrap"),
)


ITEM_STATE_NAMES: dict[str, Text] = {
    "routed": Text("routed", "배정됨"),
    "delivered": Text("delivered", "전달됨"),
    "accepted": Text("accepted", "수락"),
    "proposed": Text("time proposed", "시간 제안"),
    "declined": Text("declined", "거절"),
    "expired": Text("expired", "기한 초과"),
    "withdrawn": Text("withdrawn", "회수"),
}
"""One-stop request items (the routing queue, :mod:`hub.http.dashboard_routing`)."""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def both(text: Text) -> str:
    """Both languages; CSS shows the chosen one."""
    return f'<span lang="en">{esc(text.en)}</span><span lang="ko">{esc(text.ko)}</span>'


def tr(en: str, ko: str) -> str:
    return both(Text(en, ko))


# -- cells shared by the server render and ops.js (keep both in step) -------------------------


def state_label(state: str) -> str:
    return both(STATE_NAMES.get(state, Text(state, state)))


def industry_label(code: str) -> str:
    return both(INDUSTRIES.get(code, Text(code, code)))


def ago(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    d = duration(seconds)
    return tr(f"{d.en} ago", f"{d.ko} 전")


def lag_text(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def sort_keys(c: CenterHealth, silent: int | None) -> dict[str, str]:
    st = c.status.state
    return {
        "center": c.id,
        "industry": c.status.center.industry,
        "state": str(STATES.index(c.state) if c.state in STATES else 99),
        "seen": str(silent if silent is not None else -1),
        "backlog": str(st.backlog),
        "lag": str(st.commit_lag_seconds or 0),
        "cert": str(c.status.cert_expires_at or 0),
        "agent": st.agent_version,
        "problems": str(severity_rank(c.severity) if c.problems else 9),
    }


def center_row(c: CenterHealth, now: int) -> str:
    st, info = c.status.state, c.status.center
    silent = now - st.last_seen if st.last_seen is not None else None
    problem = '<span class="muted">-</span>'
    if c.problems:
        problem = both(c.problems[0].what)
        if len(c.problems) > 1:
            problem += f' <span class="muted">(+{len(c.problems) - 1})</span>'
    cert = (timeconv.iso(c.status.cert_expires_at) or "-")[:10]
    keys = " ".join(f'data-k-{k}="{esc(v)}"' for k, v in sort_keys(c, silent).items())
    link = f'<a href="/ops/centers/{esc(c.id)}">{esc(c.id)}</a>'
    cells = [
        f'<td class="center">{link}<br><span class="muted">{tr(info.name_en, info.name_ko)}</span>',
        f'<td class="industry opt">{industry_label(info.industry)}',
        f'<td class="state" data-state="{esc(c.state)}">{state_label(c.state)}',
        f'<td class="seen">{ago(silent)}',
        f'<td class="num backlog">{st.backlog}',
        f'<td class="num lag opt">{lag_text(st.commit_lag_seconds)}',
        f'<td class="cert opt">{esc(cert)}',
        f'<td class="agent opt">{esc(st.agent_version or "-")}',
        f'<td class="wrap problems">{problem}',
    ]
    return f'<tr data-center="{esc(c.id)}" {keys}>' + "".join(f"{x}</td>" for x in cells) + "</tr>"


def state_chips(counts: dict[str, int]) -> str:
    return "".join(
        f'<span class="chip" data-state="{s}"><b data-count="{s}">{counts.get(s, 0)}</b>'
        f"{state_label(s)}</span>"
        for s in STATES
    )


def industry_cards(report: FleetReport) -> str:
    per = report.industry_counts()
    cards = []
    for code in INDUSTRIES:
        counts = per.get(code, {})
        shown = "".join(
            f'<span data-state="{s}">{state_label(s)} {n}</span>' for s, n in counts.items() if n
        )
        cards.append(
            f'<div class="card" data-industry="{esc(code)}"><h3>{industry_label(code)} '
            f'<span class="muted total">{sum(counts.values())}</span></h3>'
            f'<div class="counts">{shown or tr("no centers", "센터 없음")}</div></div>'
        )
    return "".join(cards)


def problem_items(items: list[tuple[str, Any]]) -> str:
    """``<li>`` per (center id or "", problem with code, severity, what, action)."""
    out = []
    for cid, p in items:
        who = f'<a href="/ops/centers/{esc(cid)}">{esc(cid)}</a>: ' if cid else ""
        out.append(
            f'<li class="{esc(p.severity)}" data-code="{esc(p.code)}">{who}{both(p.what)}'
            f'<div class="todo">{both(p.action)}</div></li>'
        )
    return "".join(out) or f'<li class="ok">{tr("No problems.", "문제 없음.")}</li>'


def head(columns: tuple[tuple[str, Text, str], ...]) -> str:
    return "".join(
        f'<th scope="col" class="{cls}" data-sort="{key}">'
        f'<button type="button">{both(name)}</button></th>'
        for key, name, cls in columns
    )


def history_rows(history: list[dict[str, Any]]) -> str:
    rows = []
    for e in history:
        name = both(EVENT_NAMES.get(e["kind"], Text(e["kind"], e["kind"])))
        detail = ", ".join(f"{k}={v}" for k, v in e["detail"].items())
        rows.append(
            f'<tr data-kind="{esc(e["kind"])}"><td>{esc(e["at"])}</td><td>{name}</td>'
            f'<td class="wrap">{esc(detail)}</td></tr>'
        )
    empty = tr("nothing yet", "기록 없음")
    return "".join(rows) or f'<tr><td colspan="3" class="muted">{empty}</td></tr>'


def source_rows(sources: list[dict[str, Any]]) -> str:
    rows = []
    for s in sources:
        ok = tr("ok", "정상") if s["ok"] else tr("failing", "실패")
        rows.append(
            f'<tr data-source="{esc(s["name"])}"><td>{esc(s["name"])}</td><td>{ok}</td>'
            f'<td class="num">{s["records"]}</td><td class="num">{s["problems"]}</td>'
            f'<td class="wrap">{esc(s["first_problem"] or "-")}</td>'
            f"<td>{esc(s['last_poll'] or '-')}</td></tr>"
        )
    empty = tr("not reported yet", "보고 없음")
    return "".join(rows) or f'<tr><td colspan="6" class="muted">{empty}</td></tr>'


FACTS: dict[str, Text] = {
    "state": Text("State", "상태"),
    "last_seen": Text("Last heard", "마지막 수신"),
    "last_heartbeat": Text("Last heartbeat", "마지막 하트비트"),
    "last_sync": Text("Last committed batch", "마지막 커밋 배치"),
    "hwm": Text("High-water mark", "커밋 위치(HWM)"),
    "backlog": Text("Backlog at the center", "센터 대기 변경"),
    "lag": Text("Change-to-commit lag", "변경-커밋 지연"),
    "held": Text("Deletions held", "보류된 삭제"),
    "thresholds": Text("Heartbeat / stale / offline after", "하트비트 / 지연 / 오프라인 기준"),
    "agent": Text("Agent version", "에이전트 버전"),
    "cert": Text("Certificate expires", "인증서 만료"),
    "reconcile": Text("Last reconciliation", "마지막 정합성 검사"),
}


def facts(data: dict[str, Any]) -> str:
    t = data["thresholds"]
    limits = (
        f"{data['heartbeat_seconds']} s / {t['stale_after_seconds']:g} s / "
        f"{t['offline_after_seconds']:g} s"
    )
    state = f'<span class="state" data-state="{esc(data["state"])}">'
    values = {
        "state": state + state_label(data["state"]) + "</span>",
        "last_seen": f"{esc(data['last_seen'] or '-')} ({ago(data['silent_seconds'])})",
        "last_heartbeat": esc(data["last_heartbeat"] or "-"),
        "last_sync": esc(data["last_sync"] or "-"),
        "hwm": esc(data["hwm"]),
        "backlog": esc(data["backlog"]),
        "lag": lag_text(data["commit_lag_seconds"]),
        "held": esc(data["quarantined_deletes"]),
        "thresholds": esc(limits),
        "agent": esc(data["agent_version"] or "-"),
        "cert": esc(data["cert_expires_at"] or "-"),
        "reconcile": esc(data["last_reconcile_at"] or "-"),
    }
    return "".join(
        f'<div><dt>{both(FACTS[key])}</dt><dd data-fact="{key}">{value}</dd></div>'
        for key, value in values.items()
    )


class ProblemView:
    """A problem from its JSON form, shaped like :class:`hub.health.Problem` for rendering."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.code = data["code"]
        self.severity = data["severity"]
        self.what = Text(data["what"]["en"], data["what"]["ko"])
        self.action = Text(data["action"]["en"], data["action"]["ko"])


SOURCE_COLUMNS = (
    ("", Text("Source", "소스")),
    ("", Text("Status", "상태")),
    ("num", Text("Records", "레코드")),
    ("num", Text("Problems", "문제")),
    ("", Text("First problem", "첫 문제")),
    ("", Text("Last poll", "마지막 조회")),
)
HISTORY_COLUMNS = (
    ("", Text("Time (UTC)", "시각 (UTC)")),
    ("", Text("Event", "이벤트")),
    ("", Text("Detail", "내용")),
)


def plain_head(columns: tuple[tuple[str, Text], ...]) -> str:
    return "".join(f'<th class="{cls}">{both(name)}</th>' for cls, name in columns)


def strings_for_script() -> str:
    """The labels ops.js needs, as JSON (embedded once per page)."""
    return json.dumps(
        {
            "states": {k: [v.en, v.ko] for k, v in STATE_NAMES.items()},
            "industries": {k: [v.en, v.ko] for k, v in INDUSTRIES.items()},
            "events": {k: [v.en, v.ko] for k, v in EVENT_NAMES.items()},
            "items": {k: [v.en, v.ko] for k, v in ITEM_STATE_NAMES.items()},
        },
        ensure_ascii=False,
    )
