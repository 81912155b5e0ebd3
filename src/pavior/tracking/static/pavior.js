/* Pavior website snippet: identifies the user, tracks page views, heartbeats
 * and interactions, and delivers them in batches to POST /api/v1/track.
 * Plain JS, no framework. Install guide: docs/snippet.md. */
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
    var e = { message_id: uuid(), type: type, at: Date.now(), url: location.href };
    for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) e[k] = extra[k];
    var u = { id: user.id, email: user.email, user_hash: user.user_hash, user_jwt: user.user_jwt };
    queue.push({ k: user.app_id + "\n" + (user.id || "") + "\n" + (user.email || ""), a: user.app_id, u: u, e: e });
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

  function body(items) {
    return JSON.stringify({
      app_id: items[0].a, user: items[0].u, sent_at: Date.now(),
      events: items.map(function (x) { return x.e; })
    });
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
    var payload = body(items);
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
    push("page");
  }

  function active() { lastActive = Date.now(); }

  function interaction() {
    active();
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
      user = {
        app_id: String(options.app_id),
        id: options.id == null ? null : String(options.id),
        email: options.email || null,
        user_hash: options.user_hash || null,
        user_jwt: options.user_jwt || null  // the signed alternative to user_hash
      };
      lastUrl = null;
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
      if (beat) { clearInterval(beat); beat = null; }
    }
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

  // Events left by a previous page (a reload, a failed send) go out first.
  queue = load();
  var pending = (w.Pavior && w.Pavior.q) || [];
  w.Pavior = Pavior;
  for (var i = 0; i < pending.length; i++) Pavior.apply(null, pending[i]);
  if (queue.length) schedule(0);
})();
