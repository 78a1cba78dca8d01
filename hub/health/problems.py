"""What is wrong with a center, and what to do about it, in English and Korean.

Each rule looks at one aspect of a center (liveness, sources, backlog, lag, held
deletions, certificate, agent version, reconciliation) and returns problems, each with a
stable ``code`` (alerts, tests), a ``severity`` and two texts: what is wrong and what to
do. ``iplat-hub status`` prints them as ``ID: what -> what to do``; the dashboard shows
them on the center's page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hub.config import OpsSettings
from hub.health.states import Thresholds
from hub.store import CenterStatus
from proto import timeconv

SEVERITIES = ("critical", "warning", "info")
CERT_CRITICAL_DAYS = 3
MAX_PROBLEM_TEXT = 300


@dataclass(frozen=True)
class Text:
    en: str
    ko: str

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


@dataclass(frozen=True)
class Problem:
    code: str
    """Stable identifier: offline, source_failing, backlog_growing, deletes_held..."""
    severity: str
    """critical, warning or info."""
    what: Text
    action: Text

    def line(self, center_id: str, lang: str = "en") -> str:
        return f"{center_id}: {self.what.get(lang)} -> {self.action.get(lang)}"


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def duration(seconds: float) -> Text:
    """``42 s`` / ``42초``, ``5 min`` / ``5분``, ``3 h`` / ``3시간``, ``2 d`` / ``2일``."""
    s = max(0, round(seconds))
    if s < 120:
        return Text(f"{s} s", f"{s}초")
    if s < 7200:
        return Text(f"{s // 60} min", f"{s // 60}분")
    if s < 2 * 86400:
        return Text(f"{s // 3600} h", f"{s // 3600}시간")
    return Text(f"{s // 86400} d", f"{s // 86400}일")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_PROBLEM_TEXT else text[: MAX_PROBLEM_TEXT - 3] + "..."


# -- liveness ----------------------------------------------------------------------------------


def liveness(status: CenterStatus, state: str, limits: Thresholds, now: int) -> list[Problem]:
    cid = status.center.id
    st = status.state
    age = duration(now - st.last_seen) if st.last_seen is not None else duration(0)
    seen = timeconv.iso(st.last_seen) or "-"
    interval = duration(limits.heartbeat_seconds)
    if state == "missing":
        return [
            Problem(
                "missing",
                "critical",
                Text(
                    f"missing: silent for {age.en} (last heard {seen})",
                    f"연락 두절: {age.ko}째 응답 없음 (마지막 {seen})",
                ),
                Text(
                    "ask the center's IT staff whether the agent's server was moved or retired; "
                    "there, 'iplat-agent status' says what the agent last did",
                    "센터 IT 담당자에게 에이전트 서버가 옮겨지거나 폐기되었는지 확인하고, 그곳에서 "
                    "'iplat-agent status'로 마지막 동작을 확인하도록 요청하세요",
                ),
            )
        ]
    if state == "offline":
        return [
            Problem(
                "offline",
                "critical",
                Text(
                    f"offline: silent for {age.en} (last heard {seen})",
                    f"오프라인: {age.ko} 동안 응답 없음 (마지막 {seen})",
                ),
                Text(
                    "check the agent service at the center ('iplat-agent status') and its "
                    "outbound link to the hub; its data is flagged stale meanwhile",
                    "센터의 에이전트 서비스('iplat-agent status')와 "
                    "허브로 나가는 연결을 점검하세요. "
                    "그동안 이 센터의 데이터는 오래된 것으로 표시됩니다",
                ),
            )
        ]
    if state == "stale":
        what = (
            Text(
                f"heartbeats late: last heard {age.en} ago (interval {interval.en})",
                f"하트비트 지연: {age.ko} 전 마지막 수신 (주기 {interval.ko})",
            )
            if st.connected
            else Text(
                f"disconnected {age.en} ago, not back yet",
                f"{age.ko} 전 연결 끊김, 아직 재접속하지 않음",
            )
        )
        return [
            Problem(
                "stale",
                "warning",
                what,
                Text(
                    "usually a reconnect that finishes by itself; if it lasts, check the "
                    "center's network and the agent's log",
                    "대개 스스로 재접속합니다. 계속되면 센터 네트워크와 에이전트 로그를 확인하세요",
                ),
            )
        ]
    if state == "enrolled":
        return [
            Problem(
                "never_connected",
                "warning",
                Text(
                    "has a certificate but never connected",
                    "인증서는 있으나 한 번도 접속하지 않음",
                ),
                Text(
                    "at the center: run 'iplat-agent check', then start the agent service",
                    "센터에서 'iplat-agent check'를 실행한 뒤 에이전트 서비스를 시작하세요",
                ),
            )
        ]
    if state == "registered":
        return [
            Problem(
                "not_enrolled",
                "info",
                Text("registered, not enrolled yet", "등록됨, 아직 가입(enroll)하지 않음"),
                Text(
                    f"give the center's IT staff a token: iplat-hub token create --center {cid}",
                    f"센터 IT 담당자에게 토큰을 전달하세요: iplat-hub token create --center {cid}",
                ),
            )
        ]
    if state == "evicted":
        return [
            Problem(
                "evicted",
                "info",
                Text("evicted: its certificates are revoked", "퇴출됨: 인증서가 폐기됨"),
                Text(
                    f"to let it back in: iplat-hub token create --center {cid}",
                    f"다시 받아들이려면: iplat-hub token create --center {cid}",
                ),
            )
        ]
    if state == "banned":
        return [
            Problem(
                "banned",
                "info",
                Text("banned: refused until unbanned", "차단됨: 해제 전까지 모든 요청 거부"),
                Text(
                    f"when it may come back: iplat-hub center unban {cid}",
                    f"복귀를 허용하려면: iplat-hub center unban {cid}",
                ),
            )
        ]
    return []


# -- what the agent reports ----------------------------------------------------------------


def sources(status: CenterStatus) -> list[Problem]:
    out: list[Problem] = []
    for src in status.state.sources:
        name = str(src.get("name", "?"))[:64]
        first = _clip(str(src.get("first_problem") or ""))
        count = int(src.get("problems") or 0)
        if not src.get("ok", True):
            out.append(
                Problem(
                    "source_failing",
                    "warning",
                    Text(
                        f"source '{name}' failing: {first or 'unreadable'}",
                        f"소스 '{name}' 읽기 실패: {first or '읽을 수 없음'}",
                    ),
                    Text(
                        "fix the source at the center; the last good data is served until then",
                        "센터에서 소스를 고치세요. 그때까지 마지막 정상 데이터가 제공됩니다",
                    ),
                )
            )
        elif count > 0:
            out.append(
                Problem(
                    "source_rows_skipped",
                    "warning",
                    Text(
                        f"source '{name}': {count} row(s) left out: {first}",
                        f"소스 '{name}': {count}개 행 제외됨: {first}",
                    ),
                    Text(
                        "fix these rows in the source at the center; they are left out until then",
                        "센터에서 해당 행을 고치세요. 고칠 때까지 제외됩니다",
                    ),
                )
            )
    return out


def backlog(status: CenterStatus, state: str, now: int, ops: OpsSettings) -> list[Problem]:
    st = status.state
    # Agents report their backlog on the stream; a silent center's figure is history.
    if state not in ("online", "stale") or st.backlog <= 0 or st.backlog_since is None:
        return []
    stalled = now - st.backlog_since
    if stalled < ops.backlog_growing_seconds:
        return []
    span = duration(stalled)
    before = st.backlog_since_value or 0
    if st.backlog > before:
        what = Text(
            f"backlog growing: {st.backlog} changes waiting at the center, up from {before} "
            f"over {span.en}",
            f"백로그 증가: 센터에 {st.backlog}건 대기 중, {span.ko} 동안 {before}건에서 늘어남",
        )
        code = "backlog_growing"
    else:
        what = Text(
            f"backlog not draining: {st.backlog} changes waiting for {span.en}",
            f"백로그 정체: {st.backlog}건이 {span.ko} 동안 줄지 않음",
        )
        code = "backlog_stuck"
    return [
        Problem(
            code,
            "warning",
            what,
            Text(
                "the hub commits slower than the center changes, or the link is slow: check "
                "the hub's database (iplat_store_errors_total, iplat_apply_seconds) and the "
                "center's link; the agent keeps every change until it is committed",
                "허브의 커밋이 센터 변경보다 느리거나 연결이 느립니다. 허브 데이터베이스"
                "(iplat_store_errors_total, iplat_apply_seconds)와 센터 연결을 확인하세요. "
                "에이전트는 커밋될 때까지 모든 변경을 보관합니다",
            ),
        )
    ]


def lag(status: CenterStatus, state: str, ops: OpsSettings) -> list[Problem]:
    value = status.state.commit_lag_seconds
    if state not in ("online", "stale") or value is None or value < ops.lag_warn_seconds:
        return []
    d = duration(value)
    return [
        Problem(
            "commit_lag",
            "warning",
            Text(
                f"changes take {d.en} from the center to commit",
                f"센터 변경이 커밋되기까지 {d.ko} 걸림",
            ),
            Text(
                "check the hub's database and load (iplat_apply_seconds); a slow link shows "
                "as a growing backlog too",
                "허브 데이터베이스와 부하(iplat_apply_seconds)를 확인하세요. 연결이 느리면 "
                "백로그도 함께 늘어납니다",
            ),
        )
    ]


def held_deletes(status: CenterStatus) -> list[Problem]:
    n = status.state.quarantined_deletes
    if n <= 0:
        return []
    return [
        Problem(
            "deletes_held",
            "warning",
            Text(
                f"{n} deletion(s) held back by the safety valve",
                f"안전장치가 삭제 {n}건을 보류 중",
            ),
            Text(
                "ask the center to check its source (a truncated file?), then run "
                "iplat-agent approve-deletes",
                "센터에 소스(잘린 파일인지)를 확인한 뒤 iplat-agent approve-deletes를 실행하도록 "
                "요청하세요",
            ),
        )
    ]


def certificate(status: CenterStatus, state: str, now: int, ops: OpsSettings) -> list[Problem]:
    cid = status.center.id
    if state not in ("online", "stale", "offline", "missing"):
        return []
    expires = status.cert_expires_at
    renew = Text(
        "agents renew at 65-75% of the lifetime by themselves; this one has not: check "
        "'iplat-agent status' at the center, or re-enroll it "
        f"(iplat-hub token create --center {cid})",
        "에이전트는 수명의 65-75% 시점에 스스로 갱신하는데 갱신되지 않았습니다. 센터에서 "
        "'iplat-agent status'를 확인하거나 다시 가입시키세요 "
        f"(iplat-hub token create --center {cid})",
    )
    if expires is None:
        return [
            Problem(
                "cert_missing",
                "critical",
                Text(
                    "no valid certificate: the agent cannot connect",
                    "유효한 인증서 없음: 접속 불가",
                ),
                renew,
            )
        ]
    left = expires - now
    if left > ops.cert_warn_days * 86400:
        return []
    d = duration(left)
    severity = "critical" if left < CERT_CRITICAL_DAYS * 86400 else "warning"
    return [
        Problem(
            "cert_expiring",
            severity,
            Text(
                f"certificate expires in {d.en} ({timeconv.iso(expires)})",
                f"인증서가 {d.ko} 후 만료 ({timeconv.iso(expires)})",
            ),
            renew,
        )
    ]


_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def version_key(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a release version; None for dev or unknown builds."""
    m = _VERSION.match(version)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def newest_version(versions: Sequence[str]) -> str | None:
    keyed = [(k, v) for v in versions if (k := version_key(v)) is not None]
    return max(keyed)[1] if keyed else None


def version_skew(status: CenterStatus, newest: str | None) -> list[Problem]:
    mine = status.state.agent_version
    k, top = version_key(mine), version_key(newest or "")
    if k is None or top is None or k >= top:
        return []
    return [
        Problem(
            "version_skew",
            "info",
            Text(
                f"agent {mine} is older than the newest in the fleet ({newest})",
                f"에이전트 {mine} 버전이 전체 중 최신({newest})보다 오래됨",
            ),
            Text(
                "upgrade the agent at the center: run iplat-install agent again with the new "
                "release (it upgrades in place and restarts the service)",
                "센터에서 새 릴리스로 iplat-install agent를 다시 실행해 "
                "에이전트를 업그레이드하세요 "
                "(제자리 업그레이드 후 서비스 재시작)",
            ),
        )
    ]


def reconciliation(status: CenterStatus) -> list[Problem]:
    report = status.state.last_reconcile or {}
    repaired = int(report.get("upserts_queued") or 0) + int(report.get("deletes_queued") or 0)
    if repaired <= 0:
        return []
    at = timeconv.iso(status.state.last_reconcile_at) or "-"
    return [
        Problem(
            "reconcile_repaired",
            "info",
            Text(
                f"the last reconciliation ({at}) repaired {repaired} record(s)",
                f"마지막 정합성 검사({at})에서 레코드 {repaired}건을 바로잡음",
            ),
            Text(
                "nothing to do if rare; repeated repairs mean changes get lost: look for this "
                "center in the hub's log",
                "드물면 조치 불필요. 반복되면 변경이 유실되는 것이니 "
                "허브 로그에서 이 센터를 찾아보세요",
            ),
        )
    ]
