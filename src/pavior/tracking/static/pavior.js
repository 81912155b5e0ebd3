/* Pavior website snippet: identifies the user, tracks page views, heartbeats
 * and interactions, and delivers them in batches to POST /api/v1/track; shows
 * the user's in-site messages in the Pavior bubble (SPEC §12).
 * Plain JS, no framework. Install guide: docs/snippet.md, docs/messages.md. */
(function () {
  "use strict";
  var w = window, d = document;
  if (w.Pavior && w.Pavior.loaded) return;

  var STORE = "pavior:queue";
  var MAX_QUEUE = 1000;         // bounded: the oldest events go first when full
  var BATCH = 50;
  var FLUSH_DELAY = 800;        // ms after the first queued event
  var HEARTBEAT = 15000;        // while visible and the person was active...
  var IDLE = 30 * 60 * 1000;    // ...in the last 30 minutes (SPEC §3)
  var INTERACTION_GAP = 2000;   // at most one interaction event per 2 s
  var RETRY_BASE = 500, RETRY_MAX = 30000;

  var script = d.currentScript || (function () {
    var all = d.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/pavior\.js(\?|$)/.test(all[i].src)) return all[i];
    }
    return null;
  })();
  var base = script && script.src ? new URL(script.src, location.href).origin : "";

  var user = null;        // {app_id, id, email, user_hash, user_jwt}
  var queue = [];         // [{k: batch key, a: app_id, u: user, e: event}]
  var sending = false, timer = null, attempts = 0, retryTimer = null;
  var lastActive = Date.now(), lastInteraction = 0, lastUrl = null, beat = null;
  var acked = {};

  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    (w.crypto || w.msCrypto).getRandomValues(b);
    var s = "";
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  function log(level, text) {
    if (w.console && console[level]) console[level]("[Pavior] " + text);
  }

  // --- the localStorage queue (survives reloads; shared by the site's tabs) ---
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]") || []; } catch (e) { return []; }
  }
  function save() {
    // Merge with what other tabs stored, so no tab overwrites another's events.
    var seen = {}, merged = [];
    var all = load().concat(queue);
    for (var i = 0; i < all.length; i++) {
      var id = all[i].e.message_id;
      if (seen[id] || acked[id]) continue;
      seen[id] = 1;
      merged.push(all[i]);
    }
    if (merged.length > MAX_QUEUE) merged = merged.slice(merged.length - MAX_QUEUE);
    queue = merged;
    try { localStorage.setItem(STORE, JSON.stringify(queue)); } catch (e) { /* full or blocked */ }
  }

  function push(type, extra) {
    if (!user) return;
    if (type !== "hide" && type !== "shutdown") touch(false);
    var e = { message_id: uuid(), type: type, at: Date.now(), url: location.href };
    for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) e[k] = extra[k];
    var u = { id: user.id, email: user.email, user_hash: user.user_hash, user_jwt: user.user_jwt };
    queue.push({ k: userKey(), a: user.app_id, u: u, e: e });
    save();
    schedule(FLUSH_DELAY);
  }

  function schedule(ms) {
    if (timer || retryTimer) return;
    timer = setTimeout(function () { timer = null; flush(false); }, ms);
  }

  function nextBatch() {
    if (!queue.length) return null;
    var key = queue[0].k, items = [];
    for (var i = 0; i < queue.length && items.length < BATCH; i++) {
      if (queue[i].k === key) items.push(queue[i]);
      else break;  // one user per batch, in queue order
    }
    return items;
  }

  function userKey() {
    return user ? user.app_id + "\n" + (user.id || "") + "\n" + (user.email || "") : null;
  }

  function body(items, leaving) {
    var b = {
      app_id: items[0].a, user: items[0].u, sent_at: Date.now(),
      events: items.map(function (x) { return x.e; })
    };
    // The current user's batches ask for their in-site messages (not on the
    // way out: nobody reads that answer); it carries them only when they
    // differ from the version held here.
    if (!leaving && items[0].k === userKey()) b.messages_version = mver;
    return JSON.stringify(b);
  }

  function done(items) {
    for (var i = 0; i < items.length; i++) acked[items[i].e.message_id] = 1;
    queue = queue.filter(function (x) { return !acked[x.e.message_id]; });
    save();
  }

  function retryable(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function report(data) {
    var errs = (data && data.errors) || [];
    for (var i = 0; i < errs.length; i++) {
      log("error", (errs[i].field ? errs[i].field + ": " : "") + errs[i].message);
    }
    var warns = (data && data.warnings) || [];  // e.g. an email that was not proven
    for (var j = 0; j < warns.length; j++) {
      log("warn", (warns[j].field ? warns[j].field + ": " : "") + warns[j].message);
    }
  }

  function flush(leaving) {
    if (sending && !leaving) return;
    var items = nextBatch();
    if (!items) return;
    var payload = body(items, leaving);
    var url = base + "/api/v1/track";
    if (leaving) {
      // The page is going away: hand the batch to the browser. It stays in
      // localStorage, so if it is lost the next page sends it again (the
      // server keeps each message_id once).
      try {
        fetch(url, { method: "POST", body: payload, keepalive: true, credentials: "omit",
                     headers: { "Content-Type": "text/plain" } });
      } catch (e) {
        if (navigator.sendBeacon) navigator.sendBeacon(url, new Blob([payload], { type: "text/plain" }));
      }
      return;
    }
    sending = true;
    // text/plain keeps it a "simple" CORS request: no preflight round trip.
    fetch(url, { method: "POST", body: payload, credentials: "omit", keepalive: payload.length < 60000,
                 headers: { "Content-Type": "text/plain" } })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (data) {
          return { status: r.status, data: data, wait: parseInt(r.headers.get("Retry-After"), 10) };
        });
      }, function () { return { status: 0, data: null, wait: NaN }; })
      .then(function (res) {
        sending = false;
        if (res.status >= 200 && res.status < 300) {
          attempts = 0;
          done(items);
          report(res.data);
          if (res.data && res.data.messages && items[0].k === userKey()) receive(res.data.messages);
          if (queue.length) schedule(0);
        } else if (retryable(res.status)) {
          attempts++;
          var delay = Math.min(RETRY_MAX, RETRY_BASE * Math.pow(2, attempts - 1));
          delay = delay * (0.5 + Math.random());  // jitter: tabs do not retry in step
          // A 429 or 503 says how long to wait: never come back sooner.
          if (res.wait > 0) delay = Math.max(delay, Math.min(res.wait, 3600) * 1000);
          retryTimer = setTimeout(function () { retryTimer = null; flush(false); }, delay);
        } else {
          // Any other 4xx will fail the same way again: drop the batch, say why.
          attempts = 0;
          done(items);
          var err = res.data && res.data.error;
          log("error", "events refused (" + res.status + "): " + (err ? err.message : "unknown error"));
          if (queue.length) schedule(0);
        }
      });
  }

  // --- tracking ---------------------------------------------------------------
  function pageView() {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    pageStart = Date.now();
    push("page");
    evaluate();
  }

  function active() { lastActive = Date.now(); }

  function interaction() {
    active();
    if (user) {
      var first = !session(Date.now()).interacted;
      touch(true);
      if (first) evaluate();
    }
    var now = Date.now();
    if (now - lastInteraction < INTERACTION_GAP) return;
    lastInteraction = now;
    push("interaction");
  }

  // Hidden or closed: say so (the live state ends at once, not minutes later;
  // the next heartbeat of a tab shown again brings it back), then hand over
  // the queue before the page may be gone.
  function leave() {
    push("hide");
    flush(true);
  }

  function onHide() {
    if (d.visibilityState === "hidden") leave();
    else evaluate();  // shown again: a message that came due meanwhile may show now
  }

  var listening = false;
  function start() {
    if (!listening) {
      listening = true;
      ["mousemove", "scroll", "touchstart", "wheel"].forEach(function (t) {
        w.addEventListener(t, active, { passive: true, capture: true });
      });
      w.addEventListener("click", interaction, { capture: true });
      w.addEventListener("keydown", interaction, { capture: true });
      w.addEventListener("popstate", pageView);
      w.addEventListener("hashchange", pageView);
      d.addEventListener("visibilitychange", onHide);
      w.addEventListener("pagehide", leave);
      ["pushState", "replaceState"].forEach(function (name) {
        var original = history[name];
        history[name] = function () {
          var out = original.apply(this, arguments);
          setTimeout(pageView, 0);
          return out;
        };
      });
    }
    if (!beat) {
      beat = setInterval(function () {
        if (d.visibilityState === "visible" && Date.now() - lastActive < IDLE) push("heartbeat");
      }, HEARTBEAT);
    }
  }

  // --- in-site messages: rules in the browser, the bubble (SPEC §12) ---------
  // The tracking answers bring the user's candidate messages (id, kind, live
  // rules) with a version stamp. The rules are evaluated here on page change,
  // on interaction, and on timers for time thresholds; when a message's rules
  // hold, the server is asked to show it (it checks again and records the
  // display once per user) and answers with the sanitised content.
  var SESSION = "pavior:session";
  var SESSION_GAP = 30 * 60 * 1000;  // as the server counts visits (SPEC §3)
  var RETRY_SHOW = 5000;
  var mver = null;                   // the version of `candidates` (null: none yet)
  var candidates = [];               // [{id, kind, rules}], not asked yet
  var settled = {};                  // ids the server answered for: never asked again here
  var pageStart = Date.now();
  var dueTimer = null, asking = false, openId = null, launcherWanted = false;
  var ui = null;

  function readSession() {
    try { return JSON.parse(localStorage.getItem(SESSION) || "null"); } catch (e) { return null; }
  }
  // The visit as the live attributes count it, shared by the site's tabs.
  function session(now) {
    var s = readSession();
    if (!s || s.k !== userKey() || now - s.last >= SESSION_GAP) {
      s = { k: userKey(), start: now, last: now, interacted: false };
    }
    return s;
  }
  function touch(interacted) {
    var now = Date.now(), s = session(now);
    s.last = now;
    if (interacted) s.interacted = true;
    try { localStorage.setItem(SESSION, JSON.stringify(s)); } catch (e) { /* blocked */ }
  }

  function liveNow(now) {
    var s = session(now);
    return {
      current_page_url: location.href,
      time_on_current_page: (now - pageStart) / 1000,
      current_session_duration: (now - s.start) / 1000,
      interacted_in_current_session: !!s.interacted
    };
  }

  function lower(v) { return String(v == null ? "" : v).toLowerCase(); }

  // The rules' filter language (pavior.core.messages.parse_rules): text eq is
  // exact, contains / starts_with / ends_with ignore case; times in seconds.
  function holds(node, live) {
    if (!node) return true;
    var i;
    if (node.and) { for (i = 0; i < node.and.length; i++) if (!holds(node.and[i], live)) return false; return true; }
    if (node.or) { for (i = 0; i < node.or.length; i++) if (holds(node.or[i], live)) return true; return false; }
    var v = live[node.attribute], want = node.value;
    switch (node.op) {
      case "eq": return v === want;
      case "contains": return lower(v).indexOf(lower(want)) >= 0;
      case "not_contains": return lower(v).indexOf(lower(want)) < 0;
      case "starts_with": return lower(v).indexOf(lower(want)) === 0;
      case "ends_with":
        var a = lower(v), b = lower(want);
        return a.length >= b.length && a.lastIndexOf(b) === a.length - b.length;
      case "gte": return typeof v === "number" && v >= want;
      case "lte": return typeof v === "number" && v <= want;
    }
    return false;
  }

  // When (ms since epoch) a time threshold of the rules is next crossed after
  // `now`, given when each timed attribute started counting; Infinity if never.
  function dueAt(node, starts, now) {
    var best = Infinity;
    (function walk(n) {
      if (!n) return;
      var kids = n.and || n.or;
      if (kids) { for (var i = 0; i < kids.length; i++) walk(kids[i]); return; }
      if (n.op === "gte" && typeof starts[n.attribute] === "number") {
        var t = starts[n.attribute] + n.value * 1000;
        if (t > now && t < best) best = t;
      }
    })(node);
    return best;
  }

  function receive(block) {
    mver = block.version;
    var fresh = [];
    var list = block.candidates || [];
    for (var i = 0; i < list.length; i++) if (!settled[list[i].id]) fresh.push(list[i]);
    candidates = fresh;
    launcherWanted = !!block.launcher;
    if (launcherWanted) whenBody(function () { ensureUi().launcher.hidden = false; });
    evaluate();
  }

  function evaluate() {
    if (dueTimer) { clearTimeout(dueTimer); dueTimer = null; }
    if (!user || !candidates.length) return;
    var now = Date.now(), live = liveNow(now);
    var starts = { time_on_current_page: pageStart, current_session_duration: session(now).start };
    var due = [], next = Infinity;
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (holds(c.rules, live)) due.push(c);
      else next = Math.min(next, dueAt(c.rules, starts, now));
    }
    // One message open at a time: chats first, announcements wait their turn.
    due.sort(function (a, b) {
      return (a.kind === "chat" ? 0 : 1) - (b.kind === "chat" ? 0 : 1) || a.id - b.id;
    });
    if (due.length) ask(due[0]);
    if (next < Infinity) {
      dueTimer = setTimeout(evaluate, Math.max(0, next - Date.now()) + 25);
    }
  }

  function credentials() {
    return { id: user.id, email: user.email, user_hash: user.user_hash, user_jwt: user.user_jwt };
  }

  // POST to the bubble's endpoints (text/plain JSON: no CORS preflight).
  function call(action, extra, then) {
    if (!user) return;
    var b = { app_id: user.app_id, user: credentials() };
    for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) b[k] = extra[k];
    fetch(base + "/api/v1/messenger/" + action, {
      method: "POST", body: JSON.stringify(b), credentials: "omit",
      keepalive: action === "click", headers: { "Content-Type": "text/plain" }
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        return { status: r.status, data: data };
      });
    }, function () { return { status: 0, data: null }; }).then(function (res) {
      if (then) then(res);
    });
  }

  function ask(c) {
    if (asking || openId !== null || d.visibilityState === "hidden" || !d.body) return;
    asking = true;
    candidates = candidates.filter(function (x) { return x.id !== c.id; });
    var who = userKey();
    call("show", { message_id: c.id }, function (res) {
      asking = false;
      if (who !== userKey()) return;
      if (res.status === 200 && res.data && res.data.message) {
        settled[c.id] = 1;
        display(res.data.message);
      } else if (retryable(res.status)) {
        candidates.push(c);  // the server may not have decided: ask again later
        setTimeout(evaluate, RETRY_SHOW);
      } else {
        // Already shown elsewhere, paused, out of the audience: not this time.
        settled[c.id] = 1;
        evaluate();
      }
    });
  }

  // --- the bubble: an open shadow root of <div id="pavior-messenger"> ---
  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function whenBody(fn) {
    if (d.body) fn();
    else d.addEventListener("DOMContentLoaded", fn);
  }

  function ensureUi() {
    if (ui) return ui;
    var host = el("div");
    host.id = "pavior-messenger";
    var root = host.attachShadow({ mode: "open" });
    var sheet = el("link");
    sheet.rel = "stylesheet";
    sheet.href = base + "/pavior-messenger.css";
    var wrap = el("div", "pv");
    wrap.hidden = true;  // until its stylesheet has loaded: never a flash of bare markup
    function ready() { wrap.hidden = false; }
    sheet.addEventListener("load", ready);
    sheet.addEventListener("error", ready);
    var status = el("div", "pv-sr");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var slot = el("div", "pv-slot");
    var panel = el("section", "pv-panel");
    panel.id = "pv-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "pv-panel-title");
    var head = el("div", "pv-head");
    var h = el("h2", "pv-panel-title", "Messages");
    h.id = "pv-panel-title";
    h.tabIndex = -1;
    var close = el("button", "pv-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close messages");
    close.addEventListener("click", function () { closePanel(true); });
    head.appendChild(h);
    head.appendChild(close);
    var list = el("ol", "pv-list");
    list.setAttribute("aria-label", "Messages you were shown, newest first");
    var sub = el("div", "pv-sub");
    panel.appendChild(head);
    panel.appendChild(list);
    panel.appendChild(sub);
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") closePanel(true);
    });
    var launcher = el("button", "pv-launcher");
    launcher.type = "button";
    launcher.hidden = true;
    launcher.setAttribute("aria-label", "Open messages");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "pv-panel");
    launcher.appendChild(icon());
    launcher.addEventListener("click", function () {
      if (panel.hidden) openPanel(); else closePanel(true);
    });
    wrap.appendChild(status);
    wrap.appendChild(slot);
    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(sheet);
    root.appendChild(wrap);
    d.body.appendChild(host);
    ui = { host: host, root: root, status: status, slot: slot, panel: panel, heading: h,
           list: list, sub: sub, launcher: launcher };
    return ui;
  }

  function icon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = d.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = d.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function announce(text) {
    if (!ui) return;
    ui.status.textContent = "";
    setTimeout(function () { if (ui) ui.status.textContent = text; }, 50);
  }

  // A message's content as elements; only body_html, sanitised by the server
  // (nh3: a few Markdown tags, http/https/mailto links), is parsed as HTML.
  function messageParts(m, into, titleId) {
    if (m.kind === "chat" && m.sender_name) {
      var from = el("div", "pv-from");
      var avatar = el("span", "pv-avatar", m.initials || "");
      avatar.setAttribute("aria-hidden", "true");
      from.appendChild(avatar);
      from.appendChild(el("span", "pv-sender", m.sender_name));
      into.appendChild(from);
    }
    if (m.title) {
      var t = el("h3", "pv-title", m.title);
      if (titleId) t.id = titleId;
      into.appendChild(t);
    }
    var content = el("div", "pv-body");
    content.innerHTML = m.body_html || "";  // server-sanitised (pavior.messaging.rendering)
    content.addEventListener("click", function (e) {
      var a = e.target && e.target.closest ? e.target.closest("a") : null;
      if (a) call("click", { message_id: m.id });
    });
    into.appendChild(content);
  }

  function display(m) {
    var u = ensureUi();
    openId = m.id;
    var card = el("section", "pv-card pv-" + (m.kind === "chat" ? "chat" : "announcement"));
    card.setAttribute("role", "dialog");
    card.setAttribute("aria-modal", "false");
    var titleId = "pv-card-title-" + m.id;
    if (m.title) card.setAttribute("aria-labelledby", titleId);
    else card.setAttribute("aria-label", "Message from " + (m.sender_name || "us"));
    messageParts(m, card, titleId);
    var dismiss = el("button", "pv-dismiss", "Dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", function () {
      call("dismiss", { message_id: m.id });
      card.parentNode && card.parentNode.removeChild(card);
      openId = null;
      if (u.launcher && !u.launcher.hidden) u.launcher.focus();
      setTimeout(evaluate, 300);  // the next message due takes its turn
    });
    card.appendChild(dismiss);
    u.slot.appendChild(card);
    u.launcher.hidden = false;
    announce("New message: " + (m.title || m.sender_name || ""));
  }

  function openPanel() {
    if (!user) return log("error", "call init before show");
    whenBody(function () {
      var u = ensureUi();
      u.launcher.hidden = false;
      u.panel.hidden = false;
      u.slot.hidden = true;  // the panel lists an open message too; it comes back on close
      u.launcher.setAttribute("aria-expanded", "true");
      u.heading.focus();
      call("messages", {}, renderPanel);
    });
  }

  function closePanel(focusLauncher) {
    if (!ui || ui.panel.hidden) return;
    ui.panel.hidden = true;
    ui.slot.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    if (focusLauncher) ui.launcher.focus();
  }

  function renderPanel(res) {
    if (!ui) return;
    var list = ui.list, sub = ui.sub;
    while (list.firstChild) list.removeChild(list.firstChild);
    while (sub.firstChild) sub.removeChild(sub.firstChild);
    if (res.status !== 200 || !res.data) {
      list.appendChild(el("li", "pv-empty", "Messages cannot be shown right now."));
      return;
    }
    var msgs = res.data.messages || [];
    if (!msgs.length) list.appendChild(el("li", "pv-empty", "No messages yet."));
    for (var i = 0; i < msgs.length; i++) {
      var item = el("li", "pv-item");
      var article = el("article");
      messageParts(msgs[i], article, null);
      if (msgs[i].shown_at) {
        var when = el("time", "pv-when", new Date(msgs[i].shown_at).toLocaleString());
        when.setAttribute("datetime", msgs[i].shown_at);
        article.appendChild(when);
      }
      item.appendChild(article);
      list.appendChild(item);
    }
    if (!res.data.has_email) return;
    if (res.data.email_subscription) {
      sub.appendChild(el("p", null, "You get our emails."));
      return;
    }
    var note = el("p", null, "You are unsubscribed from our emails.");
    var again = el("button", "pv-resubscribe", "Resubscribe to emails");
    again.type = "button";
    again.addEventListener("click", function () {
      again.disabled = true;
      call("resubscribe", {}, function (r) {
        if (r.status === 200) {
          while (sub.firstChild) sub.removeChild(sub.firstChild);
          var done = el("p", "pv-done", "Thanks: you will get our emails again.");
          done.tabIndex = -1;
          sub.appendChild(done);
          done.focus();
        } else {
          again.disabled = false;
          var err = r.data && r.data.error;
          note.textContent = "That did not work" + (err ? ": " + err.message : "; try again later.");
        }
      });
    });
    sub.appendChild(note);
    sub.appendChild(again);
  }

  function forgetMessages() {
    mver = null;
    candidates = [];
    settled = {};
    openId = null;
    launcherWanted = false;
    if (dueTimer) { clearTimeout(dueTimer); dueTimer = null; }
    if (ui && ui.host.parentNode) ui.host.parentNode.removeChild(ui.host);
    ui = null;
  }

  function split(options) {
    var attrs = {};
    for (var k in options) {
      if (!Object.prototype.hasOwnProperty.call(options, k)) continue;
      if (k === "app_id" || k === "id" || k === "email" || k === "user_hash" || k === "user_jwt") continue;
      attrs[k] = options[k];
    }
    return attrs;
  }

  var api = {
    init: function (options) {
      options = options || {};
      if (!options.app_id) return log("error", "init needs an app_id");
      if (options.id == null && !options.email) return log("error", "init needs an id or an email");
      var previous = userKey();
      user = {
        app_id: String(options.app_id),
        id: options.id == null ? null : String(options.id),
        email: options.email || null,
        user_hash: options.user_hash || null,
        user_jwt: options.user_jwt || null  // the signed alternative to user_hash
      };
      lastUrl = null;
      if (userKey() !== previous) forgetMessages();
      push("init", { attributes: split(options) });
      pageView();
      start();
    },
    update: function (attributes) {
      if (!user) return log("error", "call init before update");
      push("update", { attributes: split(attributes || {}) });
    },
    shutdown: function () {
      if (!user) return;
      push("shutdown");
      flush(false);
      user = null;
      lastUrl = null;
      forgetMessages();
      if (beat) { clearInterval(beat); beat = null; }
    },
    show: function () { openPanel(); },
    hide: function () { closePanel(false); }
  };

  function Pavior(command) {
    var fn = api[command];
    if (!fn) return log("error", "unknown command " + JSON.stringify(command));
    try {
      fn.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (e) {
      log("error", command + " failed: " + e);
    }
  }
  Pavior.loaded = true;
  // The rule evaluator, for tests and the curious: holds(rules, live) and
  // dueAt(rules, starts, now) (when a time threshold is next crossed).
  Pavior.rules = { holds: holds, dueAt: dueAt };

  // Events left by a previous page (a reload, a failed send) go out first.
  queue = load();
  var pending = (w.Pavior && w.Pavior.q) || [];
  w.Pavior = Pavior;
  for (var i = 0; i < pending.length; i++) Pavior.apply(null, pending[i]);
  if (queue.length) schedule(0);
})();
