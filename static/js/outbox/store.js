/* 关爱通 offline outbox, 1/5: the store. Plain ES2017, no build step; bundled after app.js, in this
 * order: store.js, sync.js, forms.js, picker.js, bar.js (blueprints/core/assets.py).
 *
 * The five files share window.GuanaiOutbox (G below): G.store (this file), G.sync, G.forms, G.picker,
 * G.bar. They only call one another at run time, never while loading, so the order only matters
 * for bar.js, which starts everything. window.guanaiOutbox stays the small public API that tests
 * and benchmarks use: {all, get, put, putAll, remove, update, count, flush}.
 *
 * The outbox lives in the page, not in the service worker: some in-app browsers (WeChat's among
 * them) run no service worker, and a page that is already open must still queue and sync there.
 *
 * IndexedDB "guanai": store "outbox" {uuid, url, body, label, kind, form, user, tries, last_error,
 * errors, status: "pending" | "rejected", created_at, saved_at, and for some: field and missing (the
 * field a 404 is shown under, and what it says), file (a Blob sent as multipart with the body) and
 * after (the uuid of an item that must reach the server first: a photo waits for its activity)};
 * store "children": each offline form's picker list (minimal fields: children, or a volunteer's
 * pairings), keyed by [source URL, id] so that lists from two sources never overwrite each other
 * (version 1 keyed by id alone: the upgrade drops that store, a cache the next page refills).
 * localStorage: drafts ("guanai-draft:<draft-key>:<child>") and the last user who used the phone.
 * Logout and a session that ended clear all of it but unsent records (clearAppData). */
(function (G) {
  "use strict";

  var DB_NAME = "guanai";
  var DB_VERSION = 2;
  var DRAFT_PREFIX = "guanai-draft:";
  var USER_KEY = "guanai-user";
  var PAGES_PREFIX = "guanai-pages-"; // the service worker's stored pages (templates/pwa/sw.js)

  // --- small helpers shared by the other files ---------------------------------------------------

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
  G.util = { noop: noop, forEach: forEach, localDate: localDate, localStamp: localStamp, online: online, element: element };

  // --- IndexedDB -------------------------------------------------------------------------------

  var dbPromise = null;

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
        request.onupgradeneeded = function (event) {
          var db = request.result;
          if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "uuid" });
          if (event.oldVersion < 2 && db.objectStoreNames.contains("children")) db.deleteObjectStore("children");
          if (!db.objectStoreNames.contains("children")) db.createObjectStore("children", { keyPath: ["source", "id"] });
        };
        request.onsuccess = function () {
          var db = request.result;
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        request.onerror = function () { reject(request.error); };
      });
      // known unusable (private mode of some browsers): forms then post normally
      dbPromise.catch(function () { store.failed = true; });
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

  // Tells the page (bar.js) and the other tabs that the outbox changed, at most every 50 ms.
  var refreshQueued = false;
  var channel = null;
  try {
    channel = "BroadcastChannel" in window ? new BroadcastChannel("guanai-outbox") : null;
    if (channel) channel.onmessage = function () { if (G.bar) G.bar.refresh(); };
  } catch (err) { channel = null; }

  function changed() {
    if (!refreshQueued) {
      refreshQueued = true;
      setTimeout(function () { refreshQueued = false; if (G.bar) G.bar.refresh(); }, 50);
    }
    if (channel) {
      try { channel.postMessage("changed"); } catch (err) { /* ignore */ }
    }
  }

  var outbox = {
    all: function () {
      return run(["outbox"], "readonly", function (tx) { return tx.objectStore("outbox").getAll(); })
        .then(function (items) { return (items || []).sort(byAge); });
    },
    get: function (uuid) {
      return run(["outbox"], "readonly", function (tx) { return tx.objectStore("outbox").get(uuid); });
    },
    put: function (item) {
      return outbox.putAll([item]);
    },
    // Several items at once, or none (an activity and its photo).
    putAll: function (items) {
      return run(["outbox"], "readwrite", function (tx) {
        var os = tx.objectStore("outbox");
        items.forEach(function (item) { os.put(item); });
      }).then(function () { changed(); });
    },
    remove: function (uuid) {
      return run(["outbox"], "readwrite", function (tx) { tx.objectStore("outbox").delete(uuid); })
        .then(function () { changed(); });
    },
    // Changes a stored item in place, if it is still there (it may have been deleted meanwhile).
    update: function (uuid, change) {
      return run(["outbox"], "readwrite", function (tx) {
        var os = tx.objectStore("outbox");
        var request = os.get(uuid);
        request.onsuccess = function () {
          if (request.result) os.put(change(request.result));
        };
      }).then(function () { changed(); });
    },
    count: function () {
      return outbox.all().then(function (items) { return items.filter(mine).length; });
    },
    flush: function () { return G.sync.flush("api"); }
  };
  window.guanaiOutbox = outbox;

  // The picker's list, per source URL (the due list, a volunteer's pairings …).
  function ofSource(source) { return IDBKeyRange.bound([source], [source, []]); } // every [source, id]

  function readChildren(source) {
    return run(["children"], "readonly", function (tx) { return tx.objectStore("children").getAll(ofSource(source)); })
      .then(function (rows) { return (rows || []).sort(function (a, b) { return a.order - b.order; }); });
  }

  function storeChildren(source, children) {
    return run(["children"], "readwrite", function (tx) {
      var os = tx.objectStore("children");
      os.delete(ofSource(source));
      children.forEach(function (child, i) { os.put(Object.assign({}, child, { order: i, source: source })); });
    });
  }

  // --- who is signed in, and what this phone keeps of them ----------------------------------------

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

  // The one clearing, for logout (bar.js), a session the server ended (sync.js sessionEnded) and
  // another user signing in: drafts, the picker lists and the stored pages leave the phone (the
  // shell cache stays: styles, scripts and the offline page hold nothing of anyone). The outbox
  // goes too, unless keepUnsent: its records wait for the next login, each naming its user, form
  // and endpoint, which is all it takes to show and send them. Resolves with the records kept,
  // counted in the same transaction that clears, so a record saved meanwhile is never lost.
  function clearAppData(options) {
    var keepUnsent = Boolean(options && options.keepUnsent);
    clearDrafts();
    try { localStorage.removeItem(USER_KEY); } catch (err) { /* ignore */ }
    var kept = run(["outbox", "children"], "readwrite", function (tx) {
      tx.objectStore("children").clear();
      if (!keepUnsent) tx.objectStore("outbox").clear();
      return tx.objectStore("outbox").count();
    }).catch(function () { return 0; });
    return Promise.all([kept, tellWorker("guanai:clear-pages"), deleteCaches(PAGES_PREFIX)])
      .then(function (done) { return done[0]; });
  }

  // Another user signed in on this phone (a session that ended without logging out, unnoticed):
  // the stored lists, pages and drafts were the previous user's. Their unsent records stay in the
  // outbox, sent only when they sign in again (see mine()).
  function noticeUserChange() {
    var user = currentUser();
    if (!user) return;
    var last = null;
    try { last = localStorage.getItem(USER_KEY); } catch (err) { return; }
    if (last && last !== user) clearAppData({ keepUnsent: true });
    try { localStorage.setItem(USER_KEY, user); } catch (err) { /* ignore */ }
  }

  // A page without a signed-in user while the phone still holds one's data: the server ended the
  // session (logout clears before it leaves).
  function heldSession() {
    try { return localStorage.getItem(USER_KEY) !== null; } catch (err) { return false; }
  }

  // The server's way of saying the session is over: an API's 401 ({"error": "login_required"}), or
  // a fetch that was redirected to the login page.
  function endsSession(response) {
    if (response.status === 401) return true;
    if (!response.redirected) return false;
    var login = window.GuanaiSession ? window.GuanaiSession.loginUrl() : "/login";
    try {
      return new URL(response.url).pathname === new URL(login, location.href).pathname;
    } catch (err) {
      return false;
    }
  }

  var store = G.store = {
    failed: false, // IndexedDB unusable here
    DRAFT_PREFIX: DRAFT_PREFIX,
    open: openDb,
    outbox: outbox,
    byAge: byAge,
    readChildren: readChildren,
    storeChildren: storeChildren,
    signedIn: signedIn,
    currentUser: currentUser,
    mine: mine,
    tellWorker: tellWorker,
    noticeUserChange: noticeUserChange,
    heldSession: heldSession,
    endsSession: endsSession,
    clearAppData: clearAppData
  };
})(window.GuanaiOutbox = window.GuanaiOutbox || {});
