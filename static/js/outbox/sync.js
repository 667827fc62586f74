/* 关爱通 offline outbox, 2/5: sending (see store.js for how the files fit).
 *
 * flush: on page load (full or boosted), on `online`, on the bar's 立即上传, on the service worker's
 * "guanai:flush", and after a failure with backoff (5 s, 15 s, 60 s, 5 min). One flush at a time.
 * A fresh CSRF token first; then each pending item, to the endpoint its form named:
 * 201/200 → deleted; 422 → rejected with the server's errors; 409 (its client_uuid is already used
 * by another record, which the server kept as it was) → rejected with the server's message; 403/404 →
 * rejected (under the item's field: the picker's, or the photo's); 413 (a file past the upload limit)
 * → rejected; rejected items are kept, shown and fixable on the outbox page. An item that names
 * another in `after` (a photo, its activity) is sent only once that one has left the outbox: while
 * it is there, pending or rejected, the item waits. 401 (or a redirect to
 * the login page) → stop, keep all, clear the rest of the phone (sessionEnded) and ask to sign in
 * again (the next page load after signing in sends them); 400 (CSRF) → a new token,
 * once; network error or 5xx → kept, tries + 1, retried later. The server keeps one record per
 * client_uuid, so sending an item twice is harmless. */
(function (G) {
  "use strict";

  var API_CSRF = "/api/v1/csrf";
  var SYNC_TAG = "guanai-outbox";
  var BACKOFF_SECONDS = [5, 15, 60, 300];
  var PARALLEL = 4; // requests in flight while flushing: slow links are latency-bound

  var util = G.util;
  var store = G.store;
  var outbox = store.outbox;

  var state = {
    flushing: false,
    login: false,      // the last flush met 401
    problem: null,     // "network" | "server": the last flush failed and will be retried
    failStreak: 0,     // consecutive failed flushes: picks the backoff
    timer: null        // the scheduled retry
  };

  function refresh() { return G.bar ? G.bar.refresh() : Promise.resolve(); }

  function Failure(outcome, message) {
    this.outcome = outcome;
    this.message = message;
  }

  function readJson(response) {
    return response.json().catch(function () { return null; });
  }

  async function fetchToken() {
    var response;
    try {
      response = await fetch(API_CSRF, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    } catch (err) {
      throw new Failure("network", "没有连上服务器");
    }
    if (store.endsSession(response)) throw new Failure("login", "登录已过期");
    var data = await readJson(response);
    if (!response.ok || response.redirected || !data || !data.token) {
      throw new Failure(response.status >= 500 ? "server" : "network", "服务器没有正常回答（" + response.status + "）");
    }
    return data.token;
  }

  function failed(item, message) {
    var now = new Date().toISOString();
    return outbox.update(item.uuid, function (stored) {
      stored.tries = (stored.tries || 0) + 1;
      stored.last_error = message;
      stored.last_try_at = now;
      return stored;
    });
  }

  function rejected(item, errors) {
    var now = new Date().toISOString();
    return outbox.update(item.uuid, function (stored) {
      if (stored.saved_at !== item.saved_at) return stored; // fixed and saved again meanwhile
      stored.tries = (stored.tries || 0) + 1;
      stored.status = "rejected";
      stored.errors = errors;
      stored.last_error = "服务器退回：需修改";
      stored.last_try_at = now;
      return stored;
    });
  }

  // One item: "done", "rejected", "login", "network" or "server".
  async function sendOne(item, token) {
    var renewed = false;
    for (;;) {
      var sentWith = token.value;
      var response;
      try {
        response = await fetch(item.url, {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          headers: item.file ? { Accept: "application/json", "X-CSRFToken": sentWith }
            : { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": sentWith },
          body: item.file ? multipart(item) : JSON.stringify(item.body)
        });
      } catch (err) {
        await failed(item, "没有连上服务器");
        return "network";
      }
      var status = response.status;
      var data = await readJson(response);
      if ((status === 200 || status === 201) && !response.redirected && data && String(data.client_uuid).toLowerCase() === item.uuid.toLowerCase()) {
        await outbox.remove(item.uuid);
        return "done";
      }
      if (status === 422) {
        await rejected(item, (data && data.errors) || { _: "服务器退回了这条记录" });
        return "rejected";
      }
      if (status === 409 && data && data.error === "child_exited") {
        // Not the record's fault: the child left care meanwhile. Kept, shown under the child, for
        // the user to delete or to send again once civil affairs has reinstated the child.
        var exited = {};
        exited[item.field || "child_id"] = data.message;
        await rejected(item, exited);
        return "rejected";
      }
      if (status === 409) {
        // Keyed client_uuid: fixing the item (forms.js) then saves it under a new client_uuid.
        await rejected(item, { client_uuid: (data && data.message) || "这个记录编号已被另一条记录使用，服务器没有保存这条记录。" });
        return "rejected";
      }
      if (store.endsSession(response)) return "login";
      if (status === 400 && !renewed) { // the CSRF token: fetch a new one (once), send again
        renewed = true;
        if (token.value === sentWith) {
          try {
            token.value = await fetchToken();
          } catch (failure) {
            if (failure.outcome !== "login") await failed(item, failure.message);
            return failure.outcome || "network";
          }
        }
        continue;
      }
      if (status === 403 || status === 404 || status === 413) {
        var errors = {};
        if (status === 404) errors[item.field || "child_id"] = item.missing || (item.file && data && data.message) || "找不到这名儿童，或不在您的工作范围内";
        else if (status === 413) errors[item.field || "_"] = (data && data.message) || "提交的内容太大，服务器没有保存";
        else errors._ = (data && data.message) || "您的账号无权提交这条记录";
        await rejected(item, errors);
        return "rejected";
      }
      // 5xx, a proxy's or captive portal's page, anything unexpected: keep it and try later
      await failed(item, status >= 500 ? "服务器出错（" + status + "）" : "服务器没有正常回答（" + status + "）");
      return status >= 500 ? "server" : "network";
    }
  }

  // A file with its body's fields (a photo: its client_uuid and its record's).
  function multipart(item) {
    var form = new FormData();
    Object.keys(item.body).forEach(function (name) { form.append(name, item.body[name]); });
    form.append(item.file_field || "file", item.file, "photo.jpg");
    return form;
  }

  // Rounds: the items whose `after` has left the outbox, then those that waited for them.
  async function sendAll(items) {
    var token;
    try {
      token = { value: await fetchToken() };
    } catch (failure) {
      return failure.outcome || "network";
    }
    var left = items;
    while (left.length) {
      var present = {};
      (await outbox.all()).forEach(function (item) { present[item.uuid] = true; });
      var ready = left.filter(function (item) { return present[item.uuid] && !(item.after && present[item.after]); });
      if (!ready.length) return "ok"; // the rest wait for items the server refused or that wait themselves
      var outcome = await sendRound(ready, token);
      if (outcome !== "ok") return outcome;
      left = left.filter(function (item) { return ready.indexOf(item) < 0; });
    }
    return "ok";
  }

  async function sendRound(items, token) {
    // Fewest tries first: an item the server keeps failing on does not hold up the others.
    var queue = items.slice().sort(function (a, b) { return (a.tries || 0) - (b.tries || 0) || store.byAge(a, b); });
    var stop = null;
    async function worker() {
      while (queue.length && !stop) {
        var outcome = await sendOne(queue.shift(), token);
        if (outcome === "login" || outcome === "network" || outcome === "server") stop = stop || outcome;
      }
    }
    var workers = [];
    for (var i = 0; i < Math.min(PARALLEL, queue.length); i++) workers.push(worker());
    await Promise.all(workers);
    return stop || "ok";
  }

  function scheduleRetry() {
    var delay = BACKOFF_SECONDS[Math.min(state.failStreak, BACKOFF_SECONDS.length - 1)] * 1000;
    state.failStreak += 1;
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { state.timer = null; flush("retry"); }, delay);
  }

  async function flushOnce() {
    if (store.failed || !store.signedIn()) return "skipped";
    var items = (await outbox.all()).filter(function (item) { return item.status === "pending" && store.mine(item); });
    if (!items.length) {
      state.problem = null;
      state.failStreak = 0;
      await refresh();
      return "empty";
    }
    if (!util.online()) { // the `online` event starts the next try
      state.problem = "network";
      await refresh();
      return "offline";
    }
    state.flushing = true;
    state.login = false;
    await refresh();
    var outcome;
    try {
      outcome = await sendAll(items);
    } catch (err) {
      outcome = "network";
    }
    state.flushing = false;
    if (outcome === "ok") {
      state.problem = null;
      state.failStreak = 0;
    } else if (outcome === "login") {
      state.problem = null;
      await sessionEnded();
    } else {
      state.problem = outcome === "server" ? "server" : "network";
      scheduleRetry();
    }
    await refresh();
    return outcome;
  }

  // The server ended the session (sendOne's or fetchToken's 401, the picker's list, a page that
  // loads signed out: bar.js): clear the phone as logout does, but keep the unsent records (of
  // any user) for the next login, and say so. Resolves with how many were kept.
  var ending = null;
  function sessionEnded() {
    if (!ending) {
      ending = store.clearAppData({ keepUnsent: true }).then(function (kept) {
        // A page still showing the ended session: offer to sign in, and keep its user noted so
        // that the login page clears again whatever this page writes meanwhile (a draft).
        state.login = store.signedIn();
        store.noticeUserChange();
        if (G.bar) G.bar.sessionEnded(kept);
        return refresh().then(function () { return kept; });
      }).then(function (kept) { ending = null; return kept; }, function () { ending = null; return 0; });
    }
    return ending;
  }

  var flushing = null;
  var flushAgain = false;

  // One flush at a time in this page (and across tabs where Web Locks exist); a flush asked for
  // while one runs happens right after it, unless that one failed (the backoff decides then).
  function flush(reason) {
    // The page where she replaces a password someone else set (templates/auth/password.html): the
    // API answers 401 until then, which is not a session ended. The next page sends what waits.
    if (document.querySelector("[data-outbox-hold]")) return Promise.resolve("held");
    if (flushing) {
      flushAgain = true;
      return flushing;
    }
    clearTimeout(state.timer);
    state.timer = null;
    var attempt = navigator.locks && navigator.locks.request
      ? navigator.locks.request("guanai-outbox-flush", { ifAvailable: true }, function (lock) {
        return lock ? flushOnce() : "busy";
      })
      : flushOnce();
    flushing = Promise.resolve(attempt).catch(function () { return "error"; }).then(function (outcome) {
      flushing = null;
      if (flushAgain) {
        flushAgain = false;
        if (outcome === "ok" || outcome === "empty") return flush(reason);
      }
      return outcome;
    });
    return flushing;
  }

  // A page load (full or boosted): send what waits, unless a backoff is running.
  function flushOnPageLoad() {
    if (state.timer) return;
    state.login = false;
    flush("page");
  }

  // After a save: a fresh start, whatever failed before.
  function flushNow(reason) {
    state.failStreak = 0;
    if (reason === "manual") state.login = false;
    return flush(reason);
  }

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator) || !("SyncManager" in window)) return;
    navigator.serviceWorker.getRegistration().then(function (registration) {
      if (registration && registration.sync) return registration.sync.register(SYNC_TAG);
    }).catch(util.noop);
  }

  window.addEventListener("online", function () {
    state.failStreak = 0;
    state.problem = null;
    flush("online");
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      // The browser's background sync: the connection is back (or the page was just queued to).
      // A running backoff still decides when to retry after a failure.
      if (event.data === "guanai:flush" && !state.timer) flush("sync");
    });
    if (navigator.serviceWorker.startMessages) navigator.serviceWorker.startMessages();
  }

  G.sync = {
    state: state,
    fetchToken: fetchToken,
    flush: flush,
    flushNow: flushNow,
    flushOnPageLoad: flushOnPageLoad,
    sessionEnded: sessionEnded,
    requestBackgroundSync: requestBackgroundSync
  };
})(window.GuanaiOutbox = window.GuanaiOutbox || {});
