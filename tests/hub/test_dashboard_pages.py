"""The operators' dashboard and its JSON, served by a real hub process: pages, both
languages, and who may see them (loopback, operator keys; never portal keys).

The centers' health is written through the store before the hub starts, as its Sync
service would have (the live path is tests/e2e/test_ops_*.py).
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from hub import config
from hub.store import Store
from tests.helpers.hubenv import RunningHub, add_center, init_hub, running_hub
from tests.helpers.portal import Reply, create_api_key, fetch, http_address

NOW = int(time.time())
CSV_ERROR = "calendar.csv:17: end 2026-03-02T08:00 is before start 2026-03-02T09:00"
# A proxy in front of the hub: the caller is not local whatever its address.
PROXIED = {"X-Forwarded-For": "203.0.113.7"}


@dataclass
class Ops:
    hub: RunningHub
    address: str
    operator_key: str
    portal_key: str

    def get(self, path: str, **kw: object) -> Reply:
        return fetch(self.address, path, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    data_dir = init_hub(tmp_path_factory.mktemp("hub"))
    add_center(data_dir, "KR-EE-0001", "electrical-electronics")
    add_center(data_dir, "KR-BI-0002", "bio")
    add_center(data_dir, "KR-MT-0003", "materials")
    with Store.open(config.load(data_dir).database_url) as store:
        for cid in ("KR-EE-0001", "KR-BI-0002"):
            store.record_certificate(cid, f"ab{cid[3:5].encode().hex()}", NOW + 90 * 86400)
        # Online for the whole module: a 1 h heartbeat interval keeps it from going stale.
        store.record_hello("KR-EE-0001", "0.1.0", NOW, heartbeat_seconds=3600)
        store.record_heartbeat(
            "KR-EE-0001",
            NOW,
            backlog=0,
            quarantined_deletes=3,
            sources=[
                {"name": "calendar", "ok": False, "records": 12, "problems": 1,
                 "first_problem": CSV_ERROR, "last_poll": NOW},
                {"name": "equipment", "ok": True, "records": 4, "problems": 0,
                 "first_problem": "", "last_poll": NOW},
            ],
        )  # fmt: skip
        store.record_hello("KR-BI-0002", "0.1.0", NOW - 7200)
        store.record_disconnect("KR-BI-0002", NOW - 7100, reason="stream ended")
    operator = create_api_key(data_dir, "ops-team", role="operator")
    portal = create_api_key(data_dir, "web", role="portal")
    with running_hub(data_dir) as hub:
        yield Ops(hub, http_address(hub), operator, portal)


def text_of(reply: Reply) -> str:
    return html.unescape(reply.body.decode())


def row(page: str, center_id: str) -> str:
    match = re.search(rf'<tr data-center="{center_id}".*?</tr>', page)
    assert match, f"no row for {center_id}"
    return match.group(0)


def test_overview_shows_states_by_industry_and_problems(ops: Ops) -> None:
    reply = ops.get("/ops/")
    assert reply.status == 200 and reply.content_type == "text/html"
    page = text_of(reply)
    assert 'data-state="online"' in row(page, "KR-EE-0001")
    assert 'data-state="offline"' in row(page, "KR-BI-0002")
    assert 'data-state="registered"' in row(page, "KR-MT-0003")
    # Worst first: the offline center's row comes before the online one's.
    assert page.index('data-center="KR-BI-0002"') < page.index('data-center="KR-EE-0001"')
    assert f"source 'calendar' failing: {CSV_ERROR}" in page
    assert "fix the source at the center; the last good data is served until then" in page
    assert "3 deletion(s) held back by the safety valve" in page
    assert '<b data-count="offline">1</b>' in page
    assert 'data-industry="bio"' in page and "바이오" in page
    # The routing queue: nothing waits yet, and the counts per item state say so.
    assert '<b data-item-count="routed">0</b>' in page and "Nothing waiting." in page
    assert "대기 중인 항목 없음." in page
    assert 'data-api="/ops/api/fleet"' in page and 'src="/ops/static/ops.js"' in page


def test_language_follows_the_query_cookie_or_browser(ops: Ops) -> None:
    assert 'data-lang="ko"' in text_of(ops.get("/ops/", params={"lang": "ko"}))
    assert 'data-lang="ko"' in text_of(ops.get("/ops/", headers={"Cookie": "iplat_lang=ko"}))
    korean_browser = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
    assert 'data-lang="ko"' in text_of(ops.get("/ops/", headers=korean_browser))
    assert 'data-lang="en"' in text_of(ops.get("/ops/"))


def test_center_page_has_facts_problems_sources_and_history(ops: Ops) -> None:
    page = text_of(ops.get("/ops/centers/KR-EE-0001"))
    assert 'data-api="/ops/api/centers/KR-EE-0001"' in page
    assert '<tr data-source="calendar">' in page and CSV_ERROR in page
    assert 'data-code="deletes_held"' in page and "iplat-agent approve-deletes" in page
    assert '<tr data-kind="source_failing">' in page and '<tr data-kind="connected">' in page
    missing = ops.get("/ops/centers/KR-XX-9999")
    assert missing.status == 404


def test_json_for_the_live_refresh(ops: Ops) -> None:
    fleet = ops.get("/ops/api/fleet").json()
    assert fleet["counts"]["states"]["online"] == 1
    assert fleet["counts"]["industries"]["bio"]["offline"] == 1
    assert fleet["centers"][0]["id"] == "KR-BI-0002"
    center = ops.get("/ops/api/centers/KR-BI-0002").json()
    assert center["state"] == "offline" and center["history"][0]["kind"] == "disconnected"
    assert center["problems"][0]["code"] == "offline"
    assert center["problems"][0]["action"]["ko"].startswith("센터의 에이전트 서비스")


def test_static_assets(ops: Ops) -> None:
    js = ops.get("/ops/static/ops.js")
    assert js.status == 200 and js.content_type == "text/javascript"
    assert ops.get("/ops/static/ops.css").content_type == "text/css"
    assert ops.get("/ops/static/..%2Fapp.py").status == 404


def test_remote_callers_need_an_operator_key(ops: Ops) -> None:
    page = ops.get("/ops/", headers=PROXIED)
    assert page.status == 401 and 'action="/ops/login"' in text_of(page)
    assert ops.get("/metrics", headers=PROXIED).problem()["status"] == 401
    assert ops.get("/ops/api/fleet", headers=PROXIED).status == 401
    refused = ops.get("/metrics", headers=PROXIED, key=ops.portal_key).problem()
    assert refused["status"] == 403 and "operator key" in refused["detail"]
    assert ops.get("/metrics", headers=PROXIED, key=ops.operator_key).status == 200
    assert ops.get("/ops/api/fleet", headers=PROXIED, key=ops.operator_key).status == 200


async def _login(address: str, key: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://{address}/ops/login", data={"key": key}, headers=PROXIED, allow_redirects=False
        ) as response,
    ):
        headers = response.headers
        return response.status, headers.get("Location", ""), headers.get("Set-Cookie", "")


def test_login_form_keeps_the_key_in_an_httponly_cookie(ops: Ops) -> None:
    status, location, cookie = asyncio.run(_login(ops.address, ops.operator_key))
    assert (status, location) == (303, "/ops/")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    value = cookie.split(";")[0]
    assert ops.get("/ops/", headers={**PROXIED, "Cookie": value}).status == 200
    status, _, cookie = asyncio.run(_login(ops.address, ops.portal_key))
    assert status == 403 and cookie == ""
    status, _, _ = asyncio.run(_login(ops.address, "ipk_0123456789abcdef." + "x" * 43))
    assert status == 401
