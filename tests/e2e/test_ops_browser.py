"""The dashboard in a real headless Chromium, served by a running hub with live agents:
a center goes offline on the page without a reload, a routed request appears in the routing
queue without one; the language switch and a phone-sized screen work. Screenshots are saved
under test-artifacts/ (gitignored).

Uses Debian's Chromium through Playwright's Python package (``playwright install`` is never
run: nothing is downloaded). Skips locally without them; fails in CI (CI=true).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import routing
from tests.helpers.agentenv import running_agent
from tests.helpers.hubenv import running_hub
from tests.helpers.opsenv import ARTIFACTS, fast_agent, fast_hub, require, status_of
from tests.helpers.portal import http_address
from tests.helpers.wait import eventually

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GOING, STAYING = "KR-EE-0201", "KR-BI-0202"


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require("Playwright (Python)", sync_playwright is not None, "pip install -e '.[test]'")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    require("Chromium", executable is not None, "apt-get install chromium")
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def state_cell(center_id: str) -> str:
    return f'#centers tr[data-center="{center_id}"] td.state'


def test_a_center_goes_offline_on_the_page_without_a_reload(browser: Any, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with running_hub(fast_hub(tmp_path / "hub")) as hub:
        going = fast_agent(hub, tmp_path / "going", GOING)
        staying = fast_agent(hub, tmp_path / "staying", STAYING)
        with running_agent(going) as agent, running_agent(staying):
            for c in (GOING, STAYING):
                eventually(lambda c=c: status_of(hub, c)["state"] == "online", timeout=20)
            base = f"http://{http_address(hub)}"
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/ops/")
            page.wait_for_selector(f'{state_cell(GOING)}[data-state="online"]', timeout=10_000)
            # Marks this document: a reload would make a new one without the mark.
            page.evaluate("window.__sameDocument = true")

            # A request routed now appears in the routing queue, live.
            assert page.inner_text("#queue tbody").strip() in ("Nothing waiting.", "")
            view = routing.submit(hub.data_dir)
            item = view.needs[0].items[0]
            queued = f'#queue tr[data-item="{item.item_id}"]'
            page.wait_for_selector(queued, timeout=10_000)
            text = page.inner_text(queued)
            assert view.id in text and "validation · battery-cycler" in text
            assert item.candidate.center_id in text
            assert page.get_attribute(queued, "data-item-state") in ("routed", "delivered")
            waiting = page.inner_text('#item-states [data-item-count="routed"]')
            waiting_too = page.inner_text('#item-states [data-item-count="delivered"]')
            assert int(waiting) + int(waiting_too) == 1
            assert not page.is_visible(f"{queued} .urgent")  # two business days to answer
            agent.kill()
            page.wait_for_selector(f'{state_cell(GOING)}[data-state="offline"]', timeout=20_000)
            assert page.evaluate("window.__sameDocument === true")
            assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
            assert page.get_attribute(state_cell(STAYING), "data-state") == "online"
            assert page.inner_text('#states [data-count="offline"]') == "1"
            row = page.inner_text(f'#centers tr[data-center="{GOING}"]')
            assert "offline: silent for" in row
            page.screenshot(path=str(ARTIFACTS / "ops-dashboard-offline.png"), full_page=True)

            # Sorting by a column reorders the rows in place.
            page.click('th[data-sort="center"] button')
            ids = page.eval_on_selector_all(
                "#centers tbody tr", "rs => rs.map(r => r.dataset.center)"
            )
            assert ids == sorted(ids)

            # The language switch, without a reload either.
            page.click('button[data-set-lang="ko"]')
            assert page.is_visible('#centers th[data-sort="state"] span[lang="ko"]')
            assert not page.is_visible('#centers th[data-sort="state"] span[lang="en"]')
            assert page.evaluate("window.__sameDocument === true")

            # A phone: the center's page fits the screen's width, problems included.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.goto(f"{base}/ops/centers/{GOING}?lang=ko")
            phone.wait_for_selector('#center-problems li[data-code="offline"]')
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
            assert phone.is_visible("#center-problems li .todo")
            phone.screenshot(path=str(ARTIFACTS / "ops-center-phone.png"), full_page=True)

            # The overview with its routing queue fits a phone too.
            phone.goto(f"{base}/ops/?lang=ko")
            phone.wait_for_selector(queued)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"the overview is {overflow}px wider than a phone screen"
            assert phone.is_visible(f"{queued} td.item-state span[lang='ko']")
            phone.screenshot(path=str(ARTIFACTS / "ops-routing-phone.png"), full_page=True)
