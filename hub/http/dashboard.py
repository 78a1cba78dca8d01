"""The operators' web dashboard: server-rendered HTML, refreshed live by a small script.

::

    GET /ops/                       fleet overview: states by industry, sortable center table,
                                    every problem with what to do, the routing queue
    GET /ops/centers/{center_id}    one center: facts, problems, sources, recent sync history
    GET /ops/static/{ops.css,ops.js}

Pages are complete without JavaScript; ``static/ops.js`` then fetches the JSON routes
(:mod:`hub.http.routes_ops`) every ``[ops] refresh_seconds`` and redraws them in place,
so a center going offline shows without a reload. Every text is in the page in English
and Korean; the language switch (or ``?lang=ko``, or the browser's language) picks which
shows. Access is that of :mod:`hub.http.routes_ops`: loopback callers, or an operator key
entered once at ``/ops/login``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from aiohttp import web

from hub.health.problems import Text
from hub.http import dashboard_routing
from hub.http.context import context
from hub.http.dashboard_html import (
    COLUMNS,
    HISTORY_COLUMNS,
    SOURCE_COLUMNS,
    ProblemView,
    both,
    center_row,
    esc,
    facts,
    head,
    history_rows,
    industry_cards,
    industry_label,
    plain_head,
    problem_items,
    source_rows,
    state_chips,
    strings_for_script,
    tr,
)
from hub.http.middleware import open_route
from hub.http.problems import NOT_FOUND, UNAUTHENTICATED, Problem
from hub.http.routes_ops import COOKIE, authorize, center_detail, ops_context
from proto import timeconv

routes = web.RouteTableDef()

LANG_COOKIE = "iplat_lang"
STATIC = ("ops.css", "ops.js")


def language(request: web.Request) -> str:
    chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "")
    if chosen in ("en", "ko"):
        return chosen
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "ko" if accept.startswith("ko") else "en"


def _page(request: web.Request, title: Text, body: str, data: dict[str, Any]) -> web.Response:
    lang = language(request)
    attrs = " ".join(f'data-{k}="{esc(v)}"' for k, v in data.items())
    # "</" inside a script element would end it early.
    strings = strings_for_script().replace("</", "<\\/")
    logout = ""
    if COOKIE in request.cookies:
        logout = f'<a href="/ops/logout">{tr("Sign out", "로그아웃")}</a>'
    brand = tr("i-Platform sync · operations", "i-Platform 동기화 · 운영 현황")
    pressed = {code: str(lang == code).lower() for code in ("en", "ko")}
    page = f"""<!doctype html>
<html lang="{lang}" data-lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title.en)} · {esc(title.ko)}</title>
<link rel="stylesheet" href="/ops/static/ops.css">
<script src="/ops/static/ops.js" defer></script>
</head>
<body {attrs}>
<header class="top">
  <h1><a class="brand" href="/ops/">{brand}</a> · {both(title)}</h1>
  <div class="tools">
    <span id="live" title="live">{tr("live", "실시간")}</span>
    <span>{tr("updated", "갱신")} <time id="updated">{esc(data.get("generated", ""))}</time></span>
    <button type="button" data-set-lang="en" aria-pressed="{pressed["en"]}">EN</button>
    <button type="button" data-set-lang="ko" aria-pressed="{pressed["ko"]}">한국어</button>
    {logout}
  </div>
</header>
<main>
{body}
</main>
<script id="ops-strings" type="application/json">{strings}</script>
</body>
</html>
"""
    return web.Response(
        text=page, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


async def _authorized_or_login(request: web.Request) -> web.Response | None:
    """None if the caller may see the dashboard; else the login page to answer with."""
    try:
        await authorize(request)
    except Problem as refused:
        error = None if refused.kind is UNAUTHENTICATED else refused.detail
        return login_page(request, error=error, status=refused.http_status)
    return None


def login_page(
    request: web.Request, *, error: str | None = None, status: int = 401
) -> web.Response:
    message = f'<p class="error">{esc(error)}</p>' if error else ""
    hint = tr(
        "Enter an operator API key (iplat-hub apikey create NAME --role operator). "
        "On the hub's own machine the dashboard opens without one.",
        "운영자 API 키를 입력하세요 (iplat-hub apikey create NAME --role operator). "
        "허브가 실행 중인 컴퓨터에서는 키 없이 열립니다.",
    )
    body = f"""<section>
<form class="login" method="post" action="/ops/login">
  <h2>{tr("Operator sign-in", "운영자 로그인")}</h2>
  <p class="muted">{hint}</p>
  {message}
  <label for="key">{tr("API key", "API 키")}</label>
  <input id="key" name="key" type="password" autocomplete="off" required>
  <button type="submit">{tr("Sign in", "로그인")}</button>
</form>
</section>"""
    response = _page(request, Text("Sign in", "로그인"), body, {"page": "login"})
    response.set_status(status)
    return response


def _refresh(request: web.Request) -> float:
    return float(context(request).config.ops.refresh_seconds)


# -- pages ------------------------------------------------------------------------------------


@routes.get("/ops")
@open_route
async def ops_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ops/")


@routes.get("/ops/")
@open_route
async def overview(request: web.Request) -> web.Response:
    refused = await _authorized_or_login(request)
    if refused is not None:
        return refused
    report = await ops_context(request).fleet.report()
    ctx = context(request)
    routing = await dashboard_routing.queue_json(ctx.router, ctx.access, report.now)
    rows = "".join(center_row(c, report.now) for c in report.centers)
    problems = [(c.id, p) for c in report.centers for p in c.problems][:200]
    sort_hint = tr("(worst first; click a column to sort)", "(심각한 순; 열 제목을 눌러 정렬)")
    body = f"""
<section id="summary">
  <h2>{tr("Centers by state", "상태별 센터")} (<span id="total">{len(report.centers)}</span>)</h2>
  <div class="chips" id="states">{state_chips(report.state_counts())}</div>
</section>
<section>
  <h2>{tr("Industries", "산업별")}</h2>
  <div class="industries" id="industries">{industry_cards(report)}</div>
</section>
<section>
  <h2>{tr("Centers", "센터")} <span class="muted">{sort_hint}</span></h2>
  <div class="scroll"><table id="centers"><thead><tr>{head(COLUMNS)}</tr></thead>
  <tbody>{rows}</tbody></table></div>
</section>
<section>
  <h2>{tr("Problems and what to do", "문제와 조치")}</h2>
  <ul class="problems" id="fleet-problems">{problem_items(problems)}</ul>
</section>
<section id="routing">
  <h2>{tr("Routing queue", "요청 배정 대기열")}</h2>
  {dashboard_routing.panel(routing)}
</section>"""
    data = {
        "page": "fleet",
        "api": "/ops/api/fleet",
        "refresh": _refresh(request),
        "generated": timeconv.iso(report.now) or "",
    }
    return _page(request, Text("Fleet", "전체 현황"), body, data)


@routes.get("/ops/centers/{center_id}")
@open_route
async def center_page(request: web.Request) -> web.Response:
    refused = await _authorized_or_login(request)
    if refused is not None:
        return refused
    center_id = request.match_info["center_id"]
    data = await center_detail(request, center_id)
    problems = [("", ProblemView(p)) for p in data["problems"]]
    where = f"{industry_label(data['industry'])}, {esc(data['region'])}"
    name = tr(data["name_en"], data["name_ko"])
    body = f"""
<p><a href="/ops/">{tr("← all centers", "← 전체 센터")}</a></p>
<section>
  <h2>{esc(center_id)} · {name} <span class="muted">({where})</span></h2>
  <dl class="facts" id="facts">{facts(data)}</dl>
</section>
<section>
  <h2>{tr("Problems and what to do", "문제와 조치")}</h2>
  <ul class="problems" id="center-problems">{problem_items(problems)}</ul>
</section>
<section>
  <h2>{tr("Sources (reported by the agent)", "소스 (에이전트 보고)")}</h2>
  <div class="scroll"><table id="sources"><thead><tr>{plain_head(SOURCE_COLUMNS)}</tr></thead>
  <tbody>{source_rows(data["sources"])}</tbody></table></div>
</section>
<section>
  <h2>{tr("Recent sync history", "최근 동기화 기록")}</h2>
  <div class="scroll"><table id="history"><thead><tr>{plain_head(HISTORY_COLUMNS)}</tr></thead>
  <tbody>{history_rows(data["history"])}</tbody></table></div>
</section>"""
    page_data = {
        "page": "center",
        "api": f"/ops/api/centers/{center_id}",
        "refresh": _refresh(request),
        "generated": data["generated_at"] or "",
    }
    return _page(request, Text(center_id, center_id), body, page_data)


@routes.get("/ops/static/{name}")
@open_route
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise Problem(NOT_FOUND, f"no file {name[:80]!r}")
    body = resources.files("hub.http").joinpath("static", name).read_bytes()
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return web.Response(
        body=body, content_type=kind, charset="utf-8", headers={"Cache-Control": "max-age=300"}
    )
