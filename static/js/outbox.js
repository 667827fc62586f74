/* 关爱通 offline outbox. Plain ES2017, no build step; bundled after app.js (blueprints/core/assets.py).
 *
 * Forms marked `form[data-offline-form]` (the visit and parent-contact forms) are not posted: their
 * fields become a JSON body that is put in an IndexedDB outbox on this phone, then sent to the JSON
 * API (the form's data-endpoint) now or when the network returns. The outbox lives here, in the page,
 * not in the service worker: some in-app browsers (WeChat's among them) run no service worker, and a
 * page that is already open must still queue and sync there. The service worker adds offline reloads
 * of the forms and a background `sync` that wakes this script ("guanai:flush").
 *
 * IndexedDB "guanai": store "outbox" {uuid, url, body, label, kind, form, user, tries, last_error,
 * errors, status: "pending" | "rejected", created_at, saved_at}; store "children": the due list's minimal
 * fields, for the child picker offline. localStorage: drafts ("guanai-draft:<draft-key>:<child>")
 * and the last user who used the phone.
 *
 * Sending (flush): on page load (full or boosted), on `online`, on the bar's 立即上传, on the service
 * worker's "guanai:flush", and after a failure with backoff (5 s, 15 s, 60 s, 5 min). One flush at a
 * time. A fresh CSRF token first; then each pending item: 201/200 → deleted; 422 → rejected with the
 * server's errors (kept, shown, fixable through /visits/outbox); 401 → stop, keep all, ask to sign
 * in again (the next page load after signing in sends them); 400 (CSRF) → a new token, once;
 * network error or 5xx → kept, tries + 1, retried later. The server keeps one record per
 * client_uuid, so sending an item twice is harmless.
 *
 * window.guanaiOutbox: {all, get, put, remove, flush, count} for tests and benchmarks. */
(function () {
  "use strict";

  var API_CSRF = "/api/v1/csrf";
  var API_DUE_LIST = "/api/v1/due-list";
  var DUE_PAGE = "/visits/due";
  var DB_NAME = "guanai";
  var DB_VERSION = 1;
  var DRAFT_PREFIX = "guanai-draft:";
  var USER_KEY = "guanai-user";
  var SYNC_TAG = "guanai-outbox";
  var BACKOFF_SECONDS = [5, 15, 60, 300];
  var PARALLEL = 4; // requests in flight while flushing: slow links are latency-bound
  var KIND_LABELS = { visit: "走访", contact: "亲情联系" };
  var DATE_FIELDS = ["visited_on", "contacted_on"];
  var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var LOGOUT_QUESTION = "还有 {n} 条记录没有上传，退出后会从这部手机上删除。确定退出吗？";

  function noop() {}
  function forEach(list, fn) { Array.prototype.forEach.call(list || [], fn); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDate(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function localStamp(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : localDate(d) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function online() { return navigator.onLine !== false; }
  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  // --- IndexedDB -------------------------------------------------------------------------------

  var dbPromise = null;
  var dbFailed = false; // known unusable (private mode of some browsers): forms then post normally

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request;
        try {
          request = window.indexedDB.open(DB_NAME, DB_VERSION);
        } catch (err) {
          reject(err);
          return;
        }
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "uuid" });
          if (!db.objectStoreNames.contains("children")) db.createObjectStore("children", { keyPath: "id" });
        };
        request.onsuccess = function () {
          var db = request.result;
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        request.onerror = function () { reject(request.error); };
      });
      dbPromise.catch(function () { dbFailed = true; });
    }
    return dbPromise;
  }

  // Runs work(tx) in one transaction; resolves when it commits, with work's IDBRequest's result
  // (or whatever work returned).
  function run(stores, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(stores, mode);
        var out = work(tx);
        tx.oncomplete = function () { resolve(out && typeof out === "object" && "readyState" in out ? out.result : out); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
      });
    });
  }

  function byAge(a, b) { return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0; }

  var outbox = {
    all: function () {
      return run(["outbox"], "readonly", function (tx) { return tx.objectStore("outbox").getAll(); })
        .then(function (items) { return (items || []).sort(byAge); });
    },
    get: function (uuid) {
      return run(["outbox"], "readonly", function (tx) { return tx.objectStore("outbox").get(uuid); });
    },
    put: function (item) {
      return run(["outbox"], "readwrite", function (tx) { tx.objectStore("outbox").put(item); })
        .then(function () { changed(); });
    },
    remove: function (uuid) {
      return run(["outbox"], "readwrite", function (tx) { tx.objectStore("outbox").delete(uuid); })
        .then(function () { changed(); });
    },
    // Changes a stored item in place, if it is still there (it may have been deleted meanwhile).
    update: function (uuid, change) {
      return run(["outbox"], "readwrite", function (tx) {
        var store = tx.objectStore("outbox");
        var request = store.get(uuid);
        request.onsuccess = function () {
          if (request.result) store.put(change(request.result));
        };
      }).then(function () { changed(); });
    },
    count: function () {
      return outbox.all().then(function (items) { return items.filter(mine).length; });
    },
    flush: function () { return flush("api"); }
  };
  window.guanaiOutbox = outbox;

  function readChildren() {
    return run(["children"], "readonly", function (tx) { return tx.objectStore("children").getAll(); })
      .then(function (rows) { return (rows || []).sort(function (a, b) { return a.order - b.order; }); });
  }

  function storeChildren(children) {
    return run(["children"], "readwrite", function (tx) {
      var store = tx.objectStore("children");
      store.clear();
      children.forEach(function (child, i) { store.put(Object.assign({}, child, { order: i })); });
    });
  }

  // --- who is signed in --------------------------------------------------------------------------

  // The bar is only rendered for a signed-in user; the page's session (app.js) names them.
  function signedIn() { return Boolean(document.querySelector("[data-outbox-bar]")); }
  function currentUser() { return window.GuanaiSession ? window.GuanaiSession.user() : ""; }
  function mine(item) {
    var user = currentUser();
    return !item.user || !user || item.user === user;
  }

  function drafts() {
    var keys = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT_PREFIX) === 0) keys.push(key);
      }
    } catch (err) { /* storage unavailable */ }
    return keys;
  }

  function clearDrafts() {
    drafts().forEach(function (key) { try { localStorage.removeItem(key); } catch (err) { /* ignore */ } });
  }

  function tellWorker(message) {
    if (!("serviceWorker" in navigator)) return Promise.resolve();
    return navigator.serviceWorker.getRegistration().then(function (registration) {
      var worker = navigator.serviceWorker.controller || (registration && registration.active);
      if (worker) worker.postMessage(message);
    }).catch(noop);
  }

  function deleteCaches(prefix) {
    if (!window.caches) return Promise.resolve();
    return caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) { return key.indexOf(prefix) === 0; })
        .map(function (key) { return caches.delete(key); }));
    }).catch(noop);
  }

  // Another user signed in on this phone (a session that ended without logging out): the stored
  // due list, pages and drafts were the previous user's. Their unsent records stay in the outbox,
  // sent only when they sign in again (see mine()).
  function noticeUserChange() {
    var user = currentUser();
    if (!user) return;
    var last = null;
    try {
      last = localStorage.getItem(USER_KEY);
      localStorage.setItem(USER_KEY, user);
    } catch (err) { return; }
    if (last && last !== user) {
      clearDrafts();
      run(["children"], "readwrite", function (tx) { tx.objectStore("children").clear(); }).catch(noop);
      tellWorker("guanai:clear-pages");
      deleteCaches("guanai-pages-");
    }
  }

  // --- the bar and the outbox page ---------------------------------------------------------------

  var state = {
    flushing: false,
    login: false,      // the last flush met 401
    problem: null,     // "network" | "server": the last flush failed and will be retried
    failStreak: 0,     // consecutive failed flushes: picks the backoff
    timer: null        // the scheduled retry
  };

  var refreshQueued = false;
  function changed() {
    if (refreshQueued) return;
    refreshQueued = true;
    setTimeout(function () { refreshQueued = false; refresh(); }, 50);
    if (channel) {
      try { channel.postMessage("changed"); } catch (err) { /* ignore */ }
    }
  }

  function refresh() {
    if (dbFailed) return Promise.resolve();
    return outbox.all().then(function (items) {
      renderBar(items);
      renderList(items);
    }).catch(noop);
  }

  function loginLink(text) {
    var link = element("a", null, text);
    var base = window.GuanaiSession ? window.GuanaiSession.loginUrl() : "/login";
    link.href = base + "?next=" + encodeURIComponent(location.pathname + location.search);
    link.setAttribute("hx-boost", "false");
    return link;
  }

  function renderBar(items) {
    var bar = document.querySelector("[data-outbox-bar]");
    if (!bar) return;
    var own = items.filter(mine);
    var rejected = own.filter(function (item) { return item.status === "rejected"; }).length;
    var count = bar.querySelector("[data-outbox-count]");
    if (count) count.textContent = String(own.length);
    bar.hidden = own.length === 0;
    var box = bar.querySelector("[data-outbox-state]");
    if (!box) return;
    box.textContent = "";
    var parts = [];
    if (state.flushing) parts.push("上传中…");
    else if (state.login) parts.push("登录已过期，请重新登录，记录不会丢失");
    else if (state.problem === "network" || (!online() && own.length > rejected)) parts.push("网络不通，恢复后自动上传");
    else if (state.problem === "server") parts.push("服务器暂时出错，稍后自动重试");
    if (rejected) parts.push(rejected + " 条被退回需修改");
    box.textContent = parts.join("；");
    if (state.login && !state.flushing) {
      box.appendChild(document.createTextNode(" "));
      box.appendChild(loginLink("重新登录"));
    }
    bar.dataset.outboxStatus = state.flushing ? "sending" : state.login ? "login" : state.problem || (rejected ? "rejected" : "idle");
  }

  function renderList(items) {
    var box = document.querySelector("[data-outbox-list]");
    if (!box) return;
    box.textContent = "";
    if (!items.length) {
      box.appendChild(element("p", "muted empty", "这部手机上没有待上传的记录。"));
      return;
    }
    var user = currentUser();
    var list = element("ul", "rows outbox-items");
    items.forEach(function (item) {
      var row = element("li", "row outbox-item");
      row.dataset.outboxItem = item.uuid;
      row.dataset.status = item.status;
      row.appendChild(element("strong", null, item.label || "记录"));
      row.appendChild(document.createTextNode(" "));
      row.appendChild(element("span", item.status === "rejected" ? "tag tag-key" : "tag tag-warn",
        item.status === "rejected" ? "被退回，需修改" : "待上传"));
      var meta = "保存于 " + localStamp(item.created_at) + (item.tries ? " · 已尝试上传 " + item.tries + " 次" : " · 还没有上传过");
      row.appendChild(element("span", "block muted", meta));
      if (item.user && user && item.user !== user) {
        row.appendChild(element("span", "block warn-text", "由账号 " + item.user + " 保存，需该账号登录后才能上传。"));
      }
      if (item.status === "rejected" && item.errors) {
        var errors = element("ul", "error outbox-item-errors");
        Object.keys(item.errors).forEach(function (field) {
          var line = element("li", null, String(item.errors[field]));
          line.dataset.field = field;
          errors.appendChild(line);
        });
        row.appendChild(errors);
      } else if (item.last_error) {
        row.appendChild(element("span", "block muted", "上次上传：" + item.last_error));
      }
      var actions = element("div", "actions-inline outbox-item-actions");
      if (item.status === "rejected" && item.form) {
        var fix = element("a", "button small primary", "修改");
        fix.href = item.form + "?outbox=" + encodeURIComponent(item.uuid);
        actions.appendChild(fix);
      }
      var drop = element("button", "button small", "删除");
      drop.type = "button";
      drop.dataset.outboxDelete = item.uuid;
      actions.appendChild(drop);
      row.appendChild(actions);
      list.appendChild(row);
    });
    box.appendChild(list);
  }

  // --- sending -----------------------------------------------------------------------------------

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
    if (response.status === 401) throw new Failure("login", "登录已过期");
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
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": sentWith },
          body: JSON.stringify(item.body)
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
      if (status === 401) return "login";
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
      if (status === 403 || status === 404) {
        await rejected(item, status === 404 ? { child_id: "找不到这名儿童，或不在您的工作范围内" }
          : { _: (data && data.message) || "您的账号无权提交这条记录" });
        return "rejected";
      }
      // 5xx, a proxy's or captive portal's page, anything unexpected: keep it and try later
      await failed(item, status >= 500 ? "服务器出错（" + status + "）" : "服务器没有正常回答（" + status + "）");
      return status >= 500 ? "server" : "network";
    }
  }

  async function sendAll(items) {
    var token;
    try {
      token = { value: await fetchToken() };
    } catch (failure) {
      return failure.outcome || "network";
    }
    // Fewest tries first: an item the server keeps failing on does not hold up the others.
    var queue = items.slice().sort(function (a, b) { return (a.tries || 0) - (b.tries || 0) || byAge(a, b); });
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
    if (dbFailed || !signedIn()) return "skipped";
    var items = (await outbox.all()).filter(function (item) { return item.status === "pending" && mine(item); });
    if (!items.length) {
      state.problem = null;
      state.failStreak = 0;
      await refresh();
      return "empty";
    }
    if (!online()) { // the `online` event starts the next try
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
      state.login = true;
      state.problem = null;
    } else {
      state.problem = outcome === "server" ? "server" : "network";
      scheduleRetry();
    }
    await refresh();
    return outcome;
  }

  var flushing = null;
  var flushAgain = false;

  // One flush at a time in this page (and across tabs where Web Locks exist); a flush asked for
  // while one runs happens right after it, unless that one failed (the backoff decides then).
  function flush(reason) {
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

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator) || !("SyncManager" in window)) return;
    navigator.serviceWorker.getRegistration().then(function (registration) {
      if (registration && registration.sync) return registration.sync.register(SYNC_TAG);
    }).catch(noop);
  }

  // --- the child picker --------------------------------------------------------------------------

  async function fetchChildren() {
    try {
      var response = await fetch(API_DUE_LIST, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok || response.redirected) return null;
      var data = await response.json();
      var children = (data.children || []).map(function (c) {
        return { id: c.id, name: c.name, age: c.age, village: c.village, categories: c.categories || [],
                 attention: c.attention, bucket: c.bucket };
      });
      await storeChildren(children).catch(noop);
      return children;
    } catch (err) {
      return null;
    }
  }

  function childLabel(child) {
    return child.name + " · " + child.village + (child.bucket === "overdue" ? " · 已逾期" : "");
  }

  function matchesFilter(child, filter) {
    return !filter || (child.categories || []).some(function (c) { return c === filter || c.indexOf(filter + "·") === 0; });
  }

  // Fill the picker from the due list, keeping a server-rendered option the list lacks, and select
  // `wanted` (the child in ?child=, of a draft or of an item being fixed), adding it if unknown.
  function fillPicker(select, children, wanted) {
    var filter = select.dataset.pickerFilter;
    var listed = {};
    forEach(Array.prototype.slice.call(select.options), function (option) {
      if (option.dataset.fromList !== undefined || option.dataset.unknown !== undefined) select.removeChild(option);
    });
    children.filter(function (child) { return matchesFilter(child, filter); }).forEach(function (child) {
      listed[child.id] = true;
      var option = element("option", null, childLabel(child));
      option.value = String(child.id);
      option.dataset.fromList = "";
      select.appendChild(option);
    });
    forEach(Array.prototype.slice.call(select.options), function (option) {
      if (option.value && option.dataset.fromList === undefined && listed[option.value]) select.removeChild(option);
    });
    var value = wanted ? String(wanted) : "";
    if (value && !Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      var unknown = element("option", null, "编号 " + value + " 的儿童");
      unknown.value = value;
      unknown.dataset.unknown = "";
      select.appendChild(unknown);
    }
    select.value = value;
  }

  async function setupPicker(form, wanted) {
    var select = form.querySelector("select[data-child-picker]");
    if (!select) return;
    var generation = form.__outbox.generation;
    var stored = await readChildren().catch(function () { return []; });
    fillPicker(select, stored, wanted);
    if (!online()) return;
    var fresh = await fetchChildren();
    if (fresh && document.contains(select)) {
      // keep what the user chose meanwhile; after a save (reset) no child is wanted any more
      fillPicker(select, fresh, select.value || (form.__outbox.generation === generation ? wanted : ""));
    }
  }

  // --- the offline forms -------------------------------------------------------------------------

  function newUuid() {
    var cryptoObj = window.crypto;
    if (cryptoObj && typeof cryptoObj.randomUUID === "function") return cryptoObj.randomUUID();
    var bytes = new Uint8Array(16);
    if (cryptoObj && cryptoObj.getRandomValues) cryptoObj.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function uuidField(form) { return form.querySelector('input[name="client_uuid"]'); }
  function setUuid(form, uuid) {
    var field = uuidField(form);
    if (field) field.value = uuid;
  }
  function dateFieldOf(form) {
    for (var i = 0; i < DATE_FIELDS.length; i++) if (form.elements[DATE_FIELDS[i]]) return DATE_FIELDS[i];
    return null;
  }
  function labelOf(form, name) {
    var label = form.querySelector('label[for="f-' + name + '"]');
    return label ? label.textContent.trim() : name;
  }
  function checkboxCounts(form) {
    var counts = {};
    forEach(form.elements, function (el) {
      if (el.type === "checkbox" && el.name) counts[el.name] = (counts[el.name] || 0) + 1;
    });
    return counts;
  }

  // The JSON the API takes (blueprints/visits/validation.py): radios as values, a lone checkbox as
  // true/false, repeated checkboxes (needs) as a list, empty fields left out, child_id a number.
  function buildBody(form) {
    var body = {};
    var counts = checkboxCounts(form);
    Object.keys(counts).forEach(function (name) { if (counts[name] > 1) body[name] = []; });
    forEach(form.elements, function (el) {
      var name = el.name;
      if (!name || el.disabled || name === "csrf_token" || el.type === "submit" || el.type === "button") return;
      if (el.type === "radio") {
        if (el.checked) body[name] = el.value;
      } else if (el.type === "checkbox") {
        if (counts[name] > 1) {
          if (el.checked) body[name].push(el.value);
        } else {
          body[name] = el.checked;
        }
      } else {
        var value = String(el.value || "").trim();
        if (value !== "") body[name] = value;
      }
    });
    if (body.child_id !== undefined) {
      var id = parseInt(body.child_id, 10);
      if (isNaN(id)) delete body.child_id;
      else body.child_id = id;
    }
    if (body.parents_contacted === "true") body.parents_contacted = true;
    else if (body.parents_contacted === "false") body.parents_contacted = false;
    return body;
  }

  // The reverse, for a draft or an item being fixed. The child picker is filled by setupPicker.
  function fillForm(form, body) {
    forEach(form.elements, function (el) {
      var name = el.name;
      if (!name || name === "csrf_token" || el.type === "submit" || el.type === "button" || el.matches("select[data-child-picker]")) return;
      var value = body[name];
      if (el.type === "radio") {
        el.checked = value !== undefined && value !== null && String(value) === el.value;
      } else if (el.type === "checkbox") {
        el.checked = Array.isArray(value) ? value.indexOf(el.value) >= 0 : value === true || value === "1" || value === "true" || value === "on";
      } else {
        el.value = value === undefined || value === null ? "" : String(value);
      }
    });
  }

  // A page kept by the service worker may be days old: its date fields' max (today) and default
  // (today) are moved to this phone's today.
  function refreshDates(form) {
    var today = localDate(new Date());
    forEach(form.querySelectorAll('input[type="date"][max]'), function (input) {
      if (input.max && input.max < today) {
        if (input.defaultValue === input.max) input.defaultValue = today;
        if (input.value === input.max) input.value = today;
        input.max = today;
      }
    });
  }

  function showErrors(form, errors) {
    var unmatched = [];
    forEach(form.querySelectorAll("[data-error-for]"), function (box) {
      var message = errors[box.dataset.errorFor];
      box.textContent = message || "";
      box.hidden = !message;
      var field = box.closest(".field");
      if (field) field.classList.toggle("has-error", Boolean(message));
    });
    Object.keys(errors).forEach(function (name) {
      if (!form.querySelector('[data-error-for="' + name + '"]')) unmatched.push(errors[name]);
    });
    var summary = form.querySelector("[data-form-errors]");
    var total = Object.keys(errors).length;
    if (summary) {
      summary.textContent = total ? "有 " + total + " 处需要修改，请看标红的项目。" + (unmatched.length ? " " + unmatched.join("；") : "") : "";
      summary.hidden = !total;
    }
    var first = form.querySelector(".has-error");
    if (first && total) {
      first.scrollIntoView({ block: "center" });
      var input = first.querySelector("input, select, textarea");
      if (input) input.focus({ preventScroll: true });
    } else if (summary && total) {
      summary.scrollIntoView({ block: "center" });
    }
  }

  function check(form, body) {
    var errors = {};
    if (form.querySelector('[name="child_id"]') && !body.child_id) {
      errors.child_id = form.dataset.offlineForm === "visit" ? "请选择走访的儿童" : "请选择儿童";
    }
    var dateField = dateFieldOf(form);
    if (dateField && !body[dateField]) errors[dateField] = "请填写" + labelOf(form, dateField);
    return errors;
  }

  function selectedChildName(form, childId) {
    var select = form.querySelector('select[name="child_id"]');
    var option = select && select.selectedOptions ? select.selectedOptions[0] : null;
    if (option && option.value === String(childId) && option.dataset.unknown === undefined) {
      return option.textContent.split(" · ")[0].trim();
    }
    return childId ? "编号 " + childId + " 的儿童" : "";
  }

  function labelFor(form, body) {
    var kind = KIND_LABELS[form.dataset.offlineForm] || "记录";
    return [kind, selectedChildName(form, body.child_id), body[dateFieldOf(form)] || ""].filter(Boolean).join(" ");
  }

  function notice(form, text, kind, withDoneLink) {
    var box = form.querySelector("[data-outbox-notice]");
    if (!box) {
      box = element("div");
      box.setAttribute("data-outbox-notice", "");
      box.setAttribute("role", "status");
      var heading = form.querySelector("h1");
      if (heading) heading.insertAdjacentElement("afterend", box);
      else form.insertBefore(box, form.firstChild);
    }
    box.className = "flash flash-" + (kind || "success") + " outbox-notice";
    box.textContent = "";
    box.appendChild(element("span", null, text));
    var done = form.dataset.doneUrl;
    if (withDoneLink && done) {
      box.appendChild(document.createTextNode(" "));
      var link = element("a", null, "返回走访任务");
      link.href = done;
      box.appendChild(link);
    }
    box.hidden = false;
    return box;
  }

  function draftKey(form, childId) {
    return DRAFT_PREFIX + form.dataset.draftKey + ":" + (childId || "new");
  }

  function saveDraft(form) {
    var own = form.__outbox;
    if (!own || own.editing || !form.dataset.draftKey) return;
    var body = buildBody(form);
    var key = draftKey(form, body.child_id);
    try {
      if (own.draftKey && own.draftKey !== key) localStorage.removeItem(own.draftKey); // one draft per form
      localStorage.setItem(key, JSON.stringify({ body: body, saved_at: new Date().toISOString() }));
      own.draftKey = key;
    } catch (err) { /* storage full or unavailable: the draft is a convenience */ }
  }

  function clearDraft(form, body) {
    var keys = [form.__outbox.draftKey, draftKey(form, body && body.child_id), draftKey(form, null)];
    keys.forEach(function (key) {
      if (key) try { localStorage.removeItem(key); } catch (err) { /* ignore */ }
    });
    form.__outbox.draftKey = null;
  }

  function readDraft(form, childId) {
    if (!form.dataset.draftKey) return null;
    try {
      var saved = JSON.parse(localStorage.getItem(draftKey(form, childId)) || "null");
      return saved && saved.body ? saved : null;
    } catch (err) {
      return null;
    }
  }

  function cleanUrl() {
    if (!/[?&](outbox|child)=/.test(location.search)) return;
    try { history.replaceState(history.state, "", location.pathname); } catch (err) { /* ignore */ }
  }

  // Ready for the next record: defaults back, no child, a new client_uuid.
  function resetForm(form) {
    form.reset();
    refreshDates(form);
    var select = form.querySelector("select[data-child-picker]");
    if (select) select.value = "";
    setUuid(form, newUuid());
    form.__outbox.editing = null;
    form.__outbox.generation += 1;
    showErrors(form, {});
    cleanUrl();
  }

  async function queueForm(form) {
    var own = form.__outbox;
    var body = buildBody(form);
    if (!UUID_RE.test(body.client_uuid || "")) {
      body.client_uuid = newUuid();
      setUuid(form, body.client_uuid);
    }
    body.client_uuid = body.client_uuid.toLowerCase();
    var errors = check(form, body);
    showErrors(form, errors);
    if (Object.keys(errors).length) return;
    var editing = own.editing;
    // recorded_at: when the visitor saved it on the phone; fixing a rejected item keeps the first.
    body.recorded_at = editing && editing.body.recorded_at ? editing.body.recorded_at : new Date().toISOString();
    var item = {
      uuid: body.client_uuid,
      url: form.dataset.endpoint,
      body: body,
      label: labelFor(form, body),
      kind: form.dataset.offlineForm,
      form: location.pathname,
      user: currentUser(),
      tries: 0,
      last_error: null,
      errors: null,
      status: "pending",
      created_at: editing ? editing.created_at : new Date().toISOString(),
      saved_at: new Date().toISOString() + "/" + Math.random().toString(36).slice(2)
    };
    try {
      await outbox.put(item);
      // fixed under a new client_uuid (the server said the old one was taken): drop the old item
      if (editing && editing.uuid !== item.uuid) await outbox.remove(editing.uuid);
    } catch (err) {
      notice(form, "没能保存在手机上（" + (err && err.name || "存储出错") + "）。请不要关闭页面，在有网络时再点保存。", "error");
      return;
    }
    clearDraft(form, body);
    resetForm(form);
    notice(form, (editing ? "已修改，" : "") + "已保存在手机上，待上传：" + item.label, "success", true);
    window.scrollTo(0, 0);
    requestBackgroundSync();
    state.failStreak = 0;
    await flush("queued");
    var still = await outbox.get(item.uuid).catch(function () { return item; });
    if (!document.contains(form)) return;
    if (!still) notice(form, "已上传：" + item.label, "success", true);
    else if (still.status === "rejected") notice(form, "服务器退回了这条记录，请到“待上传”里查看并修改：" + item.label, "error");
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form || !form.matches) return;
    if (form.matches("form[data-logout-form]")) {
      onLogout(event, form);
      return;
    }
    if (!form.matches("form[data-offline-form]") || form.hasAttribute("data-offline-disabled") || !form.__outbox) return;
    if (dbFailed) return; // no IndexedDB here: the form posts to the server as it would without script
    event.preventDefault();
    event.stopImmediatePropagation(); // htmx (hx-boost) must not post it too
    if (form.__outbox.busy) return;
    form.__outbox.busy = true;
    queueForm(form).catch(function () { /* reported by notice() */ }).then(function () { form.__outbox.busy = false; });
  }

  async function setupForm(form) {
    var own = form.__outbox;
    refreshDates(form);
    var params = new URLSearchParams(location.search);
    var wanted = params.get("child");
    var editUuid = params.get("outbox");
    var select = form.querySelector("select[data-child-picker]");
    if (select && !wanted) select.value = ""; // a stored page may hold another child's selection
    var usedUuid = null;
    if (editUuid) {
      var item = await outbox.get(editUuid).catch(function () { return null; });
      if (item && item.kind === form.dataset.offlineForm) {
        own.editing = item;
        fillForm(form, item.body);
        wanted = item.body.child_id;
        // the same client_uuid (the server keeps one record per uuid), unless the server refused it
        usedUuid = item.errors && item.errors.client_uuid ? null : item.uuid;
        notice(form, "正在修改待上传的记录：" + item.label + "。改好后点保存。", "warn");
        if (item.errors) showErrors(form, item.errors);
      } else {
        notice(form, "找不到这条待上传的记录，可能已经上传或删除。", "warn");
      }
    } else {
      var draft = readDraft(form, wanted);
      if (draft) {
        fillForm(form, draft.body);
        wanted = draft.body.child_id || wanted;
        own.draftKey = draftKey(form, wanted);
        var stored = UUID_RE.test(draft.body.client_uuid || "") ? await outbox.get(draft.body.client_uuid).catch(function () { return null; }) : null;
        if (UUID_RE.test(draft.body.client_uuid || "") && !stored) usedUuid = draft.body.client_uuid;
        var box = notice(form, "已恢复上次没有保存的内容（" + localStamp(draft.saved_at) + "）。", "info");
        var discard = element("button", "linklike", "清空重填");
        discard.type = "button";
        discard.addEventListener("click", function () {
          clearDraft(form, buildBody(form));
          resetForm(form);
          box.hidden = true;
        });
        box.appendChild(document.createTextNode(" "));
        box.appendChild(discard);
      }
    }
    // Never the client_uuid written into the page: a page kept by the service worker repeats it.
    setUuid(form, usedUuid || newUuid());
    var timer = null;
    var later = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { saveDraft(form); }, 300);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    await setupPicker(form, wanted);
    own.ready = true;
    form.dataset.outboxReady = "";
  }

  function initForms(root) {
    if (dbFailed) return;
    forEach((root || document).querySelectorAll("form[data-offline-form]"), function (form) {
      if (form.__outbox || form.hasAttribute("data-offline-disabled")) return;
      form.__outbox = { editing: null, draftKey: null, busy: false, ready: false, generation: 0 };
      setupForm(form).catch(noop);
    });
  }

  // --- logout ------------------------------------------------------------------------------------

  function clearAppData() {
    clearDrafts();
    try { localStorage.removeItem(USER_KEY); } catch (err) { /* ignore */ }
    var stores = run(["outbox", "children"], "readwrite", function (tx) {
      tx.objectStore("outbox").clear();
      tx.objectStore("children").clear();
    }).catch(noop);
    return Promise.all([stores, tellWorker("guanai:clear-caches"), deleteCaches("guanai-")]);
  }

  function onLogout(event, form) {
    if (form.__leaving) return; // confirmed and cleared: let it post
    event.preventDefault();
    event.stopImmediatePropagation();
    var counted = dbFailed ? Promise.resolve(0) : outbox.all().then(function (items) { return items.length; }).catch(function () { return 0; });
    counted.then(function (n) {
      if (n > 0 && !window.confirm(LOGOUT_QUESTION.replace("{n}", n))) return;
      var timeout = new Promise(function (resolve) { setTimeout(resolve, 3000); });
      // The page may be a stored copy hours old, its token past Flask-WTF's time limit: take a
      // fresh one when the server answers (signed out already, the post just leads to the login).
      var token = fetchToken().then(function (value) {
        var field = form.querySelector('input[name="csrf_token"]');
        if (field) field.value = value;
      }).catch(noop);
      Promise.race([Promise.all([clearAppData(), token]), timeout]).then(function () {
        form.__leaving = true;
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  // --- wiring ------------------------------------------------------------------------------------

  function warmPages() {
    if (!("serviceWorker" in navigator) || !online()) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({ type: "guanai:warm", from: location.pathname });
    }).catch(noop);
  }

  function scan() {
    if (!document.body) return;
    if (dbFailed) {
      var list = document.querySelector("[data-outbox-list]");
      if (list) list.textContent = "这个浏览器不能把记录存在手机上（无法使用 IndexedDB）。请在有网络时直接提交表单。";
      return;
    }
    if (signedIn()) noticeUserChange(); // before forms read drafts
    initForms(document);
    refresh();
    if (!signedIn()) return;
    warmPages();
    if (location.pathname === DUE_PAGE && online()) fetchChildren();
    flushOnPageLoad();
  }

  var channel = null;
  try {
    channel = "BroadcastChannel" in window ? new BroadcastChannel("guanai-outbox") : null;
    if (channel) channel.onmessage = function () { refresh(); };
  } catch (err) { channel = null; }

  document.addEventListener("submit", onSubmit, true); // capture: before htmx's boost

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    if (target.closest("[data-outbox-sync]")) {
      state.failStreak = 0;
      state.login = false;
      flush("manual");
      return;
    }
    var drop = target.closest("[data-outbox-delete]");
    if (drop && window.confirm("确定删除这条记录吗？删除后不能恢复。")) {
      outbox.remove(drop.dataset.outboxDelete).catch(noop);
    }
  });

  window.addEventListener("online", function () {
    state.failStreak = 0;
    state.problem = null;
    flush("online");
  });
  window.addEventListener("offline", function () { refresh(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) scan(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && signedIn()) flushOnPageLoad();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) scan();
    else if (event.target && event.target.querySelectorAll) initForms(event.target);
  });
  document.addEventListener("htmx:historyRestore", scan);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      // The browser's background sync: the connection is back (or the page was just queued to).
      // A running backoff still decides when to retry after a failure.
      if (event.data === "guanai:flush" && !state.timer) flush("sync");
    });
    if (navigator.serviceWorker.startMessages) navigator.serviceWorker.startMessages();
  }

  openDb().then(scan, function () {
    dbFailed = true; // forms post to the server as without script
    scan();
  });
})();
