"""One-stop routing end to end: a hub and center agents with folder inboxes, as real processes.

::

    world = RoutingWorld.start(procs, tmp_path, CENTERS)      # hub + one agent per center
    request = world.submit(battery_request(stages=["design", "validation"]))
    [item, *_] = current_items(request)                       # routed, one per need
    site = world.sites[item["candidate"]["center_id"]]
    eventually(lambda: site.item_file(item["item_id"])["state"] == "new")
    site.accept(item["item_id"])                              # iplat-agent requests accept
    world.wait_state(request["id"], item["item_id"], "accepted")

Requests are submitted with ``iplat-hub requests submit --file`` (in-process, on the hub's
database: the running hub delivers within ``delivery_poll_seconds``), centers answer with
``iplat-agent requests accept|decline`` or by dropping an answer file into
``<inbox>/answers/``. What the tests check comes from the outside: the request as
``iplat-hub requests show --json`` gives it, the files of each folder inbox, and the
agents' JSON logs (``inbox_item`` is logged once per delivery received, with ``new`` true
only when it entered the inbox).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.helpers import hubenv
from tests.helpers.agentenv import (
    FAST_SYNC,
    AgentDir,
    AgentProcess,
    make_agent_dir,
    run_agent_cli,
)
from tests.helpers.e2e import Procs, route_through
from tests.helpers.hubenv import RunningHub
from tests.helpers.linkproxy import LinkProxy, link_proxy
from tests.helpers.portal import Reply, fetch, http_address
from tests.helpers.wait import eventually

SEOUL = ZoneInfo("Asia/Seoul")
AREA = "secondary-battery-cell"
"""In the shipped stage guide, of industry electrical-electronics: that industry's
representative center coordinates its requests."""
REGION = "대전"
FAST_ROUTING: Mapping[str, object] = {"sweep_seconds": 0.5, "delivery_poll_seconds": 0.2}
INBOX_POLL_SECONDS = 0.2
WAIT = 60.0
"""Generous: two cores shared with other processes can stall any step for seconds."""


# -- centers and their equipment ------------------------------------------------------------


def equipment(
    eq_id: str,
    category: str,
    *,
    capabilities: Sequence[str] = (),
    stages: Sequence[str] = (),
    services: Sequence[str] = ("test-analysis", "equipment-use", "consulting", "training"),
) -> dict[str, object]:
    """An equipment.csv row (lists are ``;``-separated, as centers write them)."""
    return {
        "id": eq_id,
        "name_ko": f"장비 {eq_id}",
        "name_en": f"Equipment {eq_id}",
        "category": category,
        "status": "available",
        "capabilities": ";".join(capabilities),
        "stages": ";".join(stages),
        "services": ";".join(services),
    }


@dataclass(frozen=True)
class CenterSpec:
    id: str
    industry: str
    equipment: tuple[dict[str, object], ...]
    region: str = REGION
    role: str = "participating"


# -- requests -------------------------------------------------------------------------------


def local(t: float) -> str:
    """ISO 8601 with the Seoul offset, to the minute (what a company writes)."""
    return datetime.fromtimestamp(t, SEOUL).isoformat(timespec="minutes")


def company(**overrides: str) -> dict[str, str]:
    out = {
        "name": "(주)한빛배터리",
        "business_number": "124-81-00998",
        "contact_name": "김담당",
        "contact_email": "kim@hanbit.example",
        "contact_phone": "042-123-4567",
    }
    out.update(overrides)
    return out


def battery_request(
    *,
    stages: Sequence[str] = (),
    needs: Sequence[Mapping[str, object]] = (),
    title: str = "파우치 셀 개발",
    hours: float = 8,
    days: int = 20,
) -> dict[str, Any]:
    """A POST /v1/requests body for the battery-cell area: explicit ``needs``, or ``stages``
    for the stage guide to fill in (window: tomorrow for ``days`` days, in Daejeon)."""
    now = time.time()
    body: dict[str, Any] = {
        "company": company(),
        "project_title": title,
        "technology_area": AREA,
        "goal": "4.5 Ah 파우치 셀의 수명과 안전성 확인",
        "time_zone": "Asia/Seoul",
    }
    if stages:
        body.update(
            stages=list(stages),
            earliest=local(now + 86400),
            latest=local(now + (1 + days) * 86400),
            region=REGION,
            hours=hours,
        )
    else:
        body["needs"] = [dict(n) for n in needs]
    return body


def need(
    category: str, stage: str = "validation", hours: float = 8, days: int = 20
) -> dict[str, Any]:
    """An explicit need of a request body, in the same window as :func:`battery_request`."""
    now = time.time()
    return {
        "stage": stage,
        "category": category,
        "hours": hours,
        "earliest": local(now + 86400),
        "latest": local(now + (1 + days) * 86400),
        "region": REGION,
    }


# -- one center: its agent and folder inbox -------------------------------------------------


@dataclass
class Site:
    spec: CenterSpec
    ad: AgentDir
    procs: Procs
    agent: AgentProcess | None = None
    agents: list[AgentProcess] = field(default_factory=list)
    """Every agent process run for this center (they share one log file)."""
    proxy: LinkProxy | None = None
    """The link the agent dials through, when the world was started with it proxied."""

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def inbox(self) -> Path:
        return self.ad.dir / "inbox"

    def start(self) -> AgentProcess:
        assert self.agent is None or not self.agent.alive(), f"{self.id}: agent already runs"
        self.agent = self.procs.agent(self.ad, "agent.log")
        self.agents.append(self.agent)
        return self.agent

    def stop(self) -> None:
        """SIGTERM the agent and wait for it to end."""
        assert self.agent is not None
        self.agent.stop()

    # -- the inbox as center staff see it ---------------------------------------------

    def item_files(self) -> dict[str, dict[str, Any]]:
        """{item_id: the item file's JSON} of ``<inbox>/items``."""
        out: dict[str, dict[str, Any]] = {}
        items = self.inbox / "items"
        if not items.is_dir():
            return out
        for path in sorted(items.iterdir()):
            if path.name.startswith("."):
                continue  # a write in progress (temp file, renamed when complete)
            assert path.suffix == ".json", f"unexpected file in {items}: {path.name}"
            doc = json.loads(path.read_text(encoding="utf-8"))
            assert path.name == f"{doc['item_id']}.json", path
            out[doc["item_id"]] = doc
        return out

    def item_file(self, item_id: str) -> dict[str, Any]:
        """The item's file; AssertionError (pollable) while it is not there."""
        path = self.inbox / "items" / f"{item_id}.json"
        assert path.exists(), f"{self.id}: no inbox file for {item_id}"
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return doc

    def events(self, name: str) -> list[dict[str, Any]]:
        """Log events ``name`` of every agent process run for the center, oldest first
        (the processes append to one log file)."""
        return self.agents[-1].events(name) if self.agents else []

    def wait_file(self, item_id: str, state: str | None = None) -> dict[str, Any]:
        """Until the item's file is in the inbox (in ``state`` if given); its JSON."""

        def shown() -> dict[str, Any]:
            doc = self.item_file(item_id)
            assert state is None or doc["state"] == state, f"{item_id} is {doc['state']}"
            return doc

        return eventually(shown, timeout=WAIT, interval=0.05, what=f"{item_id} at {self.id}")

    def received(self, item_id: str) -> list[dict[str, Any]]:
        """The ``inbox_item`` events of ``item_id``: one per delivery of it received, with
        ``new`` true when it entered the inbox and false for a replay."""
        return [e for e in self.events("inbox_item") if e.get("item_id") == item_id]

    # -- answering --------------------------------------------------------------------

    def requests_cli(self, action: str, *argv: str) -> tuple[int, str, str]:
        """``iplat-agent requests ACTION ARGV --config agent.toml`` in-process."""
        return run_agent_cli("requests", action, *argv, "--config", str(self.ad.config))

    def accept(self, item_id: str, *extra: str) -> None:
        code, out, err = self.requests_cli("accept", item_id, "--by", "담당자", *extra)
        assert code == 0, (out, err)

    def decline(self, item_id: str, reason: str = "no-capacity") -> None:
        code, out, err = self.requests_cli(
            "decline", item_id, "--reason", reason, "--message", "장비 예약 가득"
        )
        assert code == 0, (out, err)

    def drop_answer(self, item_id: str, answer: str = "accept", **fields: str) -> Path:
        """An answer file in ``<inbox>/answers`` (written whole, then renamed in)."""
        answers = self.inbox / "answers"
        answers.mkdir(parents=True, exist_ok=True)
        doc = {"item_id": item_id, "answer": answer, "by": "담당자", **fields}
        tmp = answers / f".{item_id}.tmp"
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        path = answers / f"{item_id}.json"
        os.replace(tmp, path)
        return path

    def agent_item(self, item_id: str) -> dict[str, Any]:
        """``iplat-agent requests show ITEM --json`` (the state database's view)."""
        code, out, err = self.requests_cli("show", item_id, "--json")
        assert code == 0, (out, err)
        doc: dict[str, Any] = json.loads(out)
        return doc

    def has_received(self, item_id: str) -> bool:
        """The item is in the agent's state database (what the CLI answers from)."""
        code, out, _ = self.requests_cli("list", "--json")
        assert code == 0
        return any(i["item_id"] == item_id for i in json.loads(out))


# -- the hub --------------------------------------------------------------------------------


@dataclass
class RoutingWorld:
    procs: Procs
    hub: RunningHub
    sites: dict[str, Site]

    @classmethod
    def start(
        cls,
        procs: Procs,
        root: Path,
        centers: Iterable[CenterSpec],
        *,
        routing: Mapping[str, object] = FAST_ROUTING,
        db_url: str | None = None,
        proxied: Iterable[str] = (),
        latency: float = 0.0,
    ) -> RoutingWorld:
        """A hub with ``[routing]`` keys set to ``routing``, and one running agent per
        center (dialing through a LinkProxy with ``latency`` for those in ``proxied``: it
        is ``site.proxy``)."""
        data_dir = hubenv.init_hub(root / "hub", db_url=db_url)
        for key, value in routing.items():
            hubenv.set_config(data_dir, key, value)
        hub = procs.hub(data_dir)
        world = cls(procs, hub, {})
        proxied = set(proxied)
        for spec in centers:
            add_center(data_dir, spec)
            ad = make_agent_dir(hub, root / spec.id, spec.id, sync=FAST_SYNC, register=False)
            set_inbox(ad)
            ad.write_equipment(list(spec.equipment))
            ad.write_calendar([])
            site = world.sites[spec.id] = Site(spec, ad, procs)
            if spec.id in proxied:
                site.proxy = link_proxy(procs, hub.address, latency)
                route_through(ad, site.proxy)
        for site in world.sites.values():
            site.start()
        world.wait_equipment()
        return world

    @property
    def data_dir(self) -> Path:
        return self.hub.data_dir

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """``iplat-hub ARGV --data-dir DATA_DIR`` in-process: (exit code, stdout, stderr)."""
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code, out = hubenv.run_cli(*argv, "--data-dir", str(self.data_dir))
        return code, out, err.getvalue()

    def cli_json(self, *argv: str) -> Any:
        code, out, err = self.cli(*argv, "--json")
        assert code == 0, f"iplat-hub {' '.join(argv)}: exit {code}: {err}"
        return json.loads(out)

    def errors(self) -> list[str]:
        """Error-level log lines of the hub and the agents so far (a failed delivery pump,
        a sink that cannot write...): none are expected, faults included."""
        out = []
        for path in self.log_paths():
            text = path.read_text(errors="replace") if path.exists() else ""
            out += [
                f"{path.name}: {line}" for line in text.splitlines() if '"level": "error"' in line
            ]
        return out

    def log_paths(self) -> list[Path]:
        return [self.hub.log_path, *(s.ad.dir / "agent.log" for s in self.sites.values())]

    def wait_equipment(self, sites: Iterable[Site] | None = None) -> None:
        """Until the hub's view holds every equipment of ``sites`` (default: all)."""
        for site in sites or self.sites.values():
            want = {str(e["id"]) for e in site.spec.equipment}

            def synced(site: Site = site, want: set[str] = want) -> bool:
                [center] = self.cli_json("view", "--center", site.id)["centers"]
                have = {eq["id"] for eq in center["equipment"]}
                assert have == want, f"{site.id}: hub has {sorted(have)}"
                return True

            eventually(synced, timeout=WAIT, interval=0.1, what=f"{site.id} equipment on hub")

    def restart_hub(self, *, kill: bool) -> RunningHub:
        self.hub = self.procs.restart_hub(self.hub, kill=kill)
        return self.hub

    # -- requests ---------------------------------------------------------------------

    def body_file(self, body: Mapping[str, Any] | str) -> Path:
        path = self.data_dir / f"request-{time.monotonic_ns()}.json"
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
        return path

    def submit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``iplat-hub requests submit --file BODY --json``; the stored request."""
        doc: dict[str, Any] = self.cli_json(
            "requests", "submit", "--file", str(self.body_file(body))
        )
        return doc

    def preview(self, body: Mapping[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = self.cli_json(
            "requests", "preview", "--file", str(self.body_file(body))
        )
        return doc

    def http(
        self, path: str, key: str, *, method: str = "GET", body: Mapping[str, Any] | None = None
    ) -> Reply:
        """One call of the hub's HTTP/JSON API with an API key (a portal's view)."""
        return fetch(
            http_address(self.hub),
            path,
            key=key,
            method=method,
            headers={"Content-Type": "application/json"} if body is not None else None,
            data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
        )

    def show(self, request_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self.cli_json("requests", "show", request_id)
        return doc

    def list_requests(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = self.cli_json("requests", "list", "--limit", "100")
        return docs

    def demand(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = self.cli_json("demand")
        return docs

    def wait_state(
        self, request_id: str, item_ids: str | Sequence[str], state: str, timeout: float = WAIT
    ) -> dict[str, Any]:
        """Until the hub has every item of ``item_ids`` in ``state``; the request then."""
        wanted = [item_ids] if isinstance(item_ids, str) else list(item_ids)

        def reached() -> dict[str, Any]:
            doc = self.show(request_id)
            states = {i: items_of(doc)[i]["state"] for i in wanted}
            assert set(states.values()) == {state}, f"waiting for {state}: {states}"
            return doc

        return eventually(reached, timeout=timeout, interval=0.2, what=f"items {state}")

    def wait_request(self, request_id: str, state: str, timeout: float = WAIT) -> dict[str, Any]:
        def reached() -> dict[str, Any]:
            doc = self.show(request_id)
            assert doc["state"] == state, f"{request_id} is {doc['state']}, waiting for {state}"
            return doc

        return eventually(reached, timeout=timeout, interval=0.2, what=f"{request_id} {state}")


def items_of(request: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{item_id: item} of every need of a request (``requests show --json``)."""
    return {i["item_id"]: i for n in request["needs"] for i in n["items"]}


def current_items(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The latest item of each need that has one."""
    return [n["items"][-1] for n in request["needs"] if n["items"]]


def events_of(request: Mapping[str, Any], item_id: str | None = None) -> list[dict[str, Any]]:
    evs: list[dict[str, Any]] = request["events"]
    return [e for e in evs if item_id is None or e["item_id"] == item_id]


def add_center(data_dir: Path, spec: CenterSpec) -> None:
    code, out = hubenv.run_cli(
        "center", "add", spec.id, "--industry", spec.industry, "--role", spec.role,
        "--name-ko", f"센터 {spec.id}", "--name-en", f"Center {spec.id}",
        "--region", spec.region, "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0, out


def set_inbox(ad: AgentDir, poll_seconds: float = INBOX_POLL_SECONDS) -> None:
    """A folder inbox (the default place, ``inbox`` beside state.db), polled quickly."""
    text = ad.config.read_text(encoding="utf-8")
    section = f'[inbox]\nkind = "folder"\npoll_seconds = {poll_seconds}\n\n'
    text = text.replace("\n[[sources]]\n", f"\n{section}[[sources]]\n", 1)
    ad.config.write_text(text, encoding="utf-8")


# -- printing the logs of a module's shared processes when one of its tests failed ----------


@contextlib.contextmanager
def logs_on_failure(session: Any, paths: Iterable[Path], lines: int = 40) -> Iterator[None]:
    before = session.testsfailed
    try:
        yield
    finally:
        if session.testsfailed > before:
            for path in sorted(set(paths)):
                text = path.read_text(errors="replace") if path.exists() else "(missing)"
                tail = "\n".join(text.splitlines()[-lines:])
                print(f"\n----- {path} (last {lines} lines) -----\n{tail}")
