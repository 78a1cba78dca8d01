// iplat-hub operations dashboard: live refresh, column sorting and the language switch.
// No build step and no libraries. The server renders every page complete; this script
// fetches the page's JSON (body[data-api]) every data-refresh seconds and redraws the
// parts that change, building DOM nodes with textContent (never HTML from data).
// Cell formats mirror hub/http/dashboard.py: keep the two in step.
(function () {
  "use strict";
  var body = document.body;
  var page = body.dataset.page;
  var api = body.dataset.api;
  var refreshMs = Math.max(200, parseFloat(body.dataset.refresh || "5") * 1000);
  var S = JSON.parse((document.getElementById("ops-strings") || {}).textContent || "{}");
  var NUMERIC = { state: 1, seen: 1, backlog: 1, lag: 1, cert: 1, problems: 1 };
  var STATES = ["missing", "offline", "stale", "enrolled", "registered", "online", "evicted", "banned"];
  var SEVERITY = { critical: 0, warning: 1, info: 2 };
  var sortKey = null;
  var sortDir = 1;

  // -- language ----------------------------------------------------------------------------
  function setLang(lang) {
    document.documentElement.dataset.lang = lang;
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-set-lang]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.setLang === lang));
    });
    try { localStorage.setItem("iplat-lang", lang); } catch (e) { /* private mode */ }
    document.cookie = "iplat_lang=" + lang + "; path=/; max-age=31536000; SameSite=Strict";
  }
  document.querySelectorAll("[data-set-lang]").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.dataset.setLang); });
  });
  try {
    var saved = localStorage.getItem("iplat-lang");
    if (saved && saved !== document.documentElement.dataset.lang && !/[?&]lang=/.test(location.search)) {
      setLang(saved);
    }
  } catch (e) { /* private mode */ }

  // -- small builders ----------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function both(en, ko) {
    var f = document.createDocumentFragment();
    f.appendChild(el("span", { lang: "en", text: en }));
    f.appendChild(el("span", { lang: "ko", text: ko }));
    return f;
  }
  function named(table, key) {
    var pair = (S[table] || {})[key] || [key, key];
    return both(pair[0], pair[1]);
  }
  function duration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    if (s < 120) return [s + " s", s + "초"];
    if (s < 7200) return [Math.floor(s / 60) + " min", Math.floor(s / 60) + "분"];
    if (s < 2 * 86400) return [Math.floor(s / 3600) + " h", Math.floor(s / 3600) + "시간"];
    return [Math.floor(s / 86400) + " d", Math.floor(s / 86400) + "일"];
  }
  function ago(seconds) {
    if (seconds === null || seconds === undefined) return document.createTextNode("-");
    var d = duration(seconds);
    return both(d[0] + " ago", d[1] + " 전");
  }
  function lagText(v) { return v === null || v === undefined ? "-" : v.toFixed(1) + " s"; }
  function replace(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (c) { node.appendChild(c); });
  }

  // -- fleet page --------------------------------------------------------------------------
  function severityRank(c) {
    return c.problems.length ? SEVERITY[c.severity] : 9;
  }
  function row(c) {
    var first = c.problems[0];
    var problem = el("td", { "class": "wrap problems" });
    if (first) {
      problem.appendChild(both(first.what.en, first.what.ko));
      if (c.problems.length > 1) {
        problem.appendChild(document.createTextNode(" "));
        problem.appendChild(el("span", { "class": "muted", text: "(+" + (c.problems.length - 1) + ")" }));
      }
    } else {
      problem.appendChild(el("span", { "class": "muted", text: "-" }));
    }
    var tr = el("tr", {
      "data-center": c.id,
      "data-k-center": c.id,
      "data-k-industry": c.industry,
      "data-k-state": String(STATES.indexOf(c.state) < 0 ? 99 : STATES.indexOf(c.state)),
      "data-k-seen": String(c.silent_seconds === null ? -1 : c.silent_seconds),
      "data-k-backlog": String(c.backlog),
      "data-k-lag": String(c.commit_lag_seconds || 0),
      "data-k-cert": String(c.cert_expires_at ? Date.parse(c.cert_expires_at) / 1000 : 0),
      "data-k-agent": c.agent_version || "",
      "data-k-problems": String(severityRank(c))
    }, [
      el("td", { "class": "center" }, [
        el("a", { href: "/ops/centers/" + encodeURIComponent(c.id), text: c.id }),
        el("br"),
        el("span", { "class": "muted" }, [both(c.name_en, c.name_ko)])
      ]),
      el("td", { "class": "industry opt" }, [named("industries", c.industry)]),
      el("td", { "class": "state", "data-state": c.state }, [named("states", c.state)]),
      el("td", { "class": "seen" }, [ago(c.silent_seconds)]),
      el("td", { "class": "num backlog", text: String(c.backlog) }),
      el("td", { "class": "num lag opt", text: lagText(c.commit_lag_seconds) }),
      el("td", { "class": "cert opt", text: (c.cert_expires_at || "-").slice(0, 10) }),
      el("td", { "class": "agent opt", text: c.agent_version || "-" }),
      problem
    ]);
    return tr;
  }
  function sortRows(tbody) {
    document.querySelectorAll("th[data-sort]").forEach(function (th) {
      if (th.dataset.sort === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    if (!sortKey) return;
    var attr = "data-k-" + sortKey;
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute(attr), y = b.getAttribute(attr);
      var cmp = NUMERIC[sortKey] ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      if (cmp === 0) cmp = a.dataset.center.localeCompare(b.dataset.center);
      return cmp * sortDir;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  document.querySelectorAll("th[data-sort] button").forEach(function (b) {
    b.addEventListener("click", function () {
      var key = b.parentNode.dataset.sort;
      sortDir = key === sortKey ? -sortDir : 1;
      sortKey = key;
      sortRows(document.querySelector("#centers tbody"));
    });
  });
  function problemItems(list) {
    if (!list.length) {
      return [el("li", { "class": "ok" }, [both("No problems.", "문제 없음.")])];
    }
    return list.map(function (item) {
      var p = item.problem;
      var li = el("li", { "class": p.severity, "data-code": p.code });
      if (item.center) {
        li.appendChild(el("a", { href: "/ops/centers/" + encodeURIComponent(item.center), text: item.center }));
        li.appendChild(document.createTextNode(": "));
      }
      li.appendChild(both(p.what.en, p.what.ko));
      li.appendChild(el("div", { "class": "todo" }, [both(p.action.en, p.action.ko)]));
      return li;
    });
  }
  function renderFleet(data) {
    document.getElementById("total").textContent = String(data.counts.total);
    Object.keys(data.counts.states).forEach(function (s) {
      var b = document.querySelector('[data-count="' + s + '"]');
      if (b) b.textContent = String(data.counts.states[s]);
    });
    document.querySelectorAll("#industries .card").forEach(function (card) {
      var counts = data.counts.industries[card.dataset.industry] || {};
      var total = 0, parts = [];
      Object.keys(counts).forEach(function (s) {
        total += counts[s];
        if (counts[s]) {
          var span = el("span", { "data-state": s }, [named("states", s)]);
          span.appendChild(document.createTextNode(" " + counts[s]));
          parts.push(span);
        }
      });
      card.querySelector(".total").textContent = String(total);
      replace(card.querySelector(".counts"), parts.length ? parts : [both("no centers", "센터 없음")]);
    });
    var tbody = document.querySelector("#centers tbody");
    replace(tbody, data.centers.map(row));
    sortRows(tbody);
    var items = [];
    data.centers.forEach(function (c) {
      c.problems.forEach(function (p) { items.push({ center: c.id, problem: p }); });
    });
    replace(document.getElementById("fleet-problems"), problemItems(items.slice(0, 200)));
    renderRouting(data.routing);
  }

  // -- routing queue (hub/http/dashboard_routing.py renders the same rows) ------------------
  function hoursText(s) {
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 2 * 86400) return Math.floor(s / 3600) + " h";
    return Math.floor(s / 86400) + " d";
  }
  function dueCell(i) {
    var span = el("span", i.urgent ? { "class": "urgent" } : {});
    if (i.waiting_for === "company") {
      span.appendChild(both("company to answer", "기업 응답 대기"));
      span.appendChild(el("br"));
    }
    span.appendChild(document.createTextNode(i.deadline));
    span.appendChild(el("br"));
    var left = hoursText(Math.abs(i.due_seconds));
    span.appendChild(i.due_seconds < 0 ? both(left + " overdue", left + " 초과")
                                       : both("in " + left, left + " 남음"));
    return [span];
  }
  function queueRow(i) {
    return el("tr", { "data-item": i.item_id, "data-item-state": i.state }, [
      el("td", {}, [document.createTextNode(i.request_id), el("br"),
                    el("span", { "class": "muted", text: i.item_id })]),
      el("td", { "class": "wrap", text: i.need }),
      el("td", {}, [el("a", { href: "/ops/centers/" + encodeURIComponent(i.center_id), text: i.center_id }),
                    el("br"), el("span", { "class": "muted", text: i.center_name })]),
      el("td", { "class": "item-state" }, [named("items", i.state)]),
      el("td", { "class": "due" }, dueCell(i)),
      el("td", { "class": "opt", text: i.routed_at })
    ]);
  }
  function renderRouting(r) {
    var tbody = document.querySelector("#queue tbody");
    if (!r || !tbody) return;
    Object.keys(r.counts).forEach(function (s) {
      var b = document.querySelector('[data-item-count="' + s + '"]');
      if (b) b.textContent = String(r.counts[s]);
    });
    replace(tbody, r.items.length ? r.items.map(queueRow) : [
      el("tr", { "class": "empty" }, [el("td", { colspan: "6", "class": "muted" },
                                         [both("Nothing waiting.", "대기 중인 항목 없음.")])])
    ]);
  }

  // -- center page -------------------------------------------------------------------------
  function setFact(key, nodes) {
    var dd = document.querySelector('[data-fact="' + key + '"]');
    if (dd) replace(dd, nodes);
  }
  function renderCenter(c) {
    setFact("state", [el("span", { "class": "state", "data-state": c.state }, [named("states", c.state)])]);
    var seen = document.createDocumentFragment();
    seen.appendChild(document.createTextNode((c.last_seen || "-") + " ("));
    seen.appendChild(ago(c.silent_seconds));
    seen.appendChild(document.createTextNode(")"));
    setFact("last_seen", [seen]);
    setFact("last_heartbeat", [document.createTextNode(c.last_heartbeat || "-")]);
    setFact("last_sync", [document.createTextNode(c.last_sync || "-")]);
    setFact("hwm", [document.createTextNode(String(c.hwm))]);
    setFact("backlog", [document.createTextNode(String(c.backlog))]);
    setFact("lag", [document.createTextNode(lagText(c.commit_lag_seconds))]);
    setFact("held", [document.createTextNode(String(c.quarantined_deletes))]);
    setFact("agent", [document.createTextNode(c.agent_version || "-")]);
    setFact("cert", [document.createTextNode(c.cert_expires_at || "-")]);
    setFact("reconcile", [document.createTextNode(c.last_reconcile_at || "-")]);
    replace(document.getElementById("center-problems"), problemItems(c.problems.map(function (p) {
      return { center: "", problem: p };
    })));
    var sources = c.sources.map(function (s) {
      return el("tr", { "data-source": s.name }, [
        el("td", { text: s.name }),
        el("td", {}, [s.ok ? both("ok", "정상") : both("failing", "실패")]),
        el("td", { "class": "num", text: String(s.records) }),
        el("td", { "class": "num", text: String(s.problems) }),
        el("td", { "class": "wrap", text: s.first_problem || "-" }),
        el("td", { text: s.last_poll || "-" })
      ]);
    });
    replace(document.querySelector("#sources tbody"), sources.length ? sources : [
      el("tr", {}, [el("td", { colspan: "6", "class": "muted" }, [both("not reported yet", "보고 없음")])])
    ]);
    var history = c.history.map(function (e) {
      var detail = Object.keys(e.detail).map(function (k) { return k + "=" + e.detail[k]; }).join(", ");
      return el("tr", { "data-kind": e.kind }, [
        el("td", { text: e.at }),
        el("td", {}, [named("events", e.kind)]),
        el("td", { "class": "wrap", text: detail })
      ]);
    });
    replace(document.querySelector("#history tbody"), history.length ? history : [
      el("tr", {}, [el("td", { colspan: "3", "class": "muted" }, [both("nothing yet", "기록 없음")])])
    ]);
  }

  // -- polling -----------------------------------------------------------------------------
  var live = document.getElementById("live");
  function poll() {
    fetch(api, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        if (page === "fleet") renderFleet(data);
        else if (page === "center") renderCenter(data);
        document.getElementById("updated").textContent = data.generated_at || "";
        live.classList.remove("lost");
        body.dataset.lastRefresh = String(Date.now());
      })
      .catch(function () { live.classList.add("lost"); })
      .then(function () { setTimeout(poll, refreshMs); });
  }
  if (api && (page === "fleet" || page === "center")) setTimeout(poll, refreshMs);
})();
