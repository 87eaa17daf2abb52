(function () {
  "use strict";
  // Live updates: ask what changed since the last answer (page/changes?since=N, with its
  // ETag), never the whole page. Search: page/services, the same filters as /status.
  var main = document.getElementById("page");
  var stamp = document.getElementById("updated");
  var every = Math.max(1, Number(document.body.getAttribute("data-refresh")) || 10) * 1000;
  var seq = Number(document.body.getAttribute("data-seq")) || 0;
  var etag = null;

  function swapLive(html) {
    // a reset: the live parts of a freshly rendered main part replace ours (search stays)
    var t = document.createElement("template");
    t.innerHTML = html;
    if (!document.getElementById("search")) { main.innerHTML = html; return; }
    t.content.querySelectorAll("[data-live]").forEach(function (fresh) {
      var old = main.querySelector('[data-live="' + fresh.getAttribute("data-live") + '"]');
      if (old) { old.replaceWith(fresh); }
    });
  }

  function setBanner(b) {
    var el = main.querySelector("[data-banner]");
    if (!el || !b) { return; }
    el.className = "card banner st-" + b.status;
    el.setAttribute("data-banner", b.status);
    el.querySelector(".icon").textContent = b.icon;
    el.querySelector(".text").textContent = b.text;
    document.title = b.text + " · fleet status";
  }

  function applyCards(cards) {
    var list = document.getElementById("attention");
    cards.forEach(function (c) {
      var old = list.querySelector('article[data-service="' + CSS.escape(c.name) + '"]');
      if (c.html === null) { if (old) { old.remove(); } return; }
      var t = document.createElement("template");
      t.innerHTML = c.html;
      var card = t.content.firstElementChild;
      if (old) { old.replaceWith(card); } else { list.prepend(card); }
    });
    // newest trouble first; an open page keeps at most twice the first response's cards
    var most = Number(list.getAttribute("data-max-cards")) || 100;
    while (list.children.length > most) { list.lastElementChild.remove(); }
  }

  function apply(d) {
    if (d.reset) {
      return fetch("?part=main", { cache: "no-store", credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
        .then(swapLive);
    }
    if (d.main !== undefined) { main.innerHTML = d.main; return null; }
    setBanner(d.banner);
    [["fold-counts", d.fold], ["attention-count", d.attention]].forEach(function (part) {
      var el = document.getElementById(part[0]);
      if (el && part[1] !== undefined) { el.innerHTML = part[1]; }
    });
    applyCards(d.cards || []);
    return null;
  }

  function tick() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch("page/changes?since=" + seq, { cache: "no-store", credentials: "same-origin", headers: headers })
      .then(function (r) {
        if (r.status === 304) { return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        etag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (d) {
        if (d === null) { return null; }
        seq = d.seq;
        return apply(d);
      })
      .then(function () {
        stamp.textContent = "Updated " + new Date().toLocaleTimeString();
        stamp.classList.remove("stale");
      })
      .catch(function (e) {
        stamp.textContent = "Could not update (" + e.message + "), retrying";
        stamp.classList.add("stale");
      })
      .finally(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);

  // search and pages over every service
  var form = document.getElementById("search");
  if (!form) { return; }
  var results = document.getElementById("results");
  var more = document.getElementById("more");
  var said = document.getElementById("search-summary");
  var cursor = null;

  function query() {
    var q = new URLSearchParams();
    ["search", "status", "team"].forEach(function (k) {
      var v = form.elements[k].value.trim();
      if (v) { q.set(k, v); }
    });
    if (cursor) { q.set("cursor", cursor); }
    return q.toString();
  }

  function line(s) {
    var li = document.createElement("li");
    li.className = "st-" + s.status;
    li.setAttribute("data-result", s.name);
    li.setAttribute("data-status", s.status);
    var icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = s.icon;
    var name = document.createElement("b");
    name.textContent = s.name;
    var words = document.createElement("span");
    words.className = "words";
    words.textContent = s.label + (s.since ? " " + s.since : "") + " · " + s.phrase +
      (s.team ? " · team " + s.team : "");
    li.append(icon, name, words);
    return li;
  }

  function search(append) {
    if (!append) { cursor = null; }
    fetch("page/services?" + query(), { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (d) { if (!r.ok) { throw new Error(d.error || "HTTP " + r.status); } return d; });
      })
      .then(function (d) {
        if (!append) { results.replaceChildren(); }
        d.services.forEach(function (s) { results.append(line(s)); });
        said.textContent = d.total.toLocaleString() + " match" + (d.total === 1 ? "" : "es") +
          (d.total ? ", showing " + results.children.length.toLocaleString() : "");
        cursor = d.next_cursor;
        more.hidden = !cursor;
      })
      .catch(function (e) { said.textContent = "Search failed: " + e.message; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); search(false); });
  more.addEventListener("click", function () { search(true); });
  main.addEventListener("click", function (e) {
    var team = e.target.closest("button.team");
    if (!team) { return; }
    form.elements.team.value = team.getAttribute("data-team");
    form.elements.status.value = "";
    form.elements.search.value = "";
    search(false);
    form.scrollIntoView();
  });
})();
