/* 关爱通 service worker. Served at /sw.js with Cache-Control: no-cache.
 *
 * Two caches, both named after VERSION (derived from the precached URLs and the offline pages, so a
 * new bundle drops both and no stored page names a bundle that is gone):
 *   guanai-shell-*  styles, scripts, icons and the offline page, precached at install;
 *   guanai-pages-*  ONLY the offline pages (PAGE_PATHS: the due list with minimal fields, the visit
 *                   and parent-contact forms, the outbox), network-first, one entry per path.
 * No other page is ever stored: a child's record must not stay on a phone. Without a network a page
 * of PAGE_PATHS comes from guanai-pages-* whatever its query (/visits/new?child=12 gets the stored
 * /visits/new, the page script then picks the child from the URL), any other page gets the offline
 * page.
 *
 * The outbox itself lives in the page (static/js/outbox/, IndexedDB), because some in-app browsers
 * run no service worker: this worker only wakes open pages on a background `sync` ("guanai:flush").
 * Messages it takes: "guanai:clear-pages" (logout, a session the server ended, another user signed in),
 * {type: "guanai:warm", from: path} (an offline page is open while online: fetch the others). */
const VERSION = "{{ version }}";
const SHELL_CACHE = "guanai-shell-" + VERSION;
const PAGES_CACHE = "guanai-pages-" + VERSION;
const SHELL_URLS = {{ urls|tojson }};
const PAGE_PATHS = {{ pages|tojson }};
const OFFLINE_URL = {{ url_for('pwa.offline')|tojson }};
const SYNC_TAG = "guanai-outbox";
// Poor signal: after this long a stored copy is shown; the network's answer still refreshes it.
const NETWORK_TIMEOUT_MS = 6000;
// Warming skips a page stored more recently than this.
const WARM_MAX_AGE_MS = 60 * 60 * 1000;
const STORED_AT = "X-Guanai-Stored-At";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL_URLS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("guanai-") && key !== SHELL_CACHE && key !== PAGES_CACHE)
          .map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

// An htmx request for a fragment (not boosted, not a history restore) is never stored or replaced:
// the same URL answers a whole page or a piece of one (see blueprints/core/htmx.py).
function isFragmentRequest(request) {
  const headers = request.headers;
  return headers.get("HX-Request") === "true" && headers.get("HX-Boosted") !== "true"
    && headers.get("HX-History-Restore-Request") !== "true";
}

// A whole page for exactly this path: a 200 that was not redirected (so never the login page).
function storable(response, url) {
  return Boolean(response) && response.status === 200 && response.type === "basic" && !response.redirected
    && new URL(response.url).pathname === url.pathname
    && (response.headers.get("Content-Type") || "").startsWith("text/html");
}

async function storePage(url, response) {
  if (!storable(response, url)) return;
  const headers = new Headers(response.headers);
  headers.set(STORED_AT, String(Date.now()));
  const body = await response.blob();
  const cache = await caches.open(PAGES_CACHE);
  // Keyed by the path alone: one copy per page, whatever query it was opened with.
  await cache.put(new Request(url.origin + url.pathname),
    new Response(body, { status: response.status, statusText: response.statusText, headers }));
}

async function storedPage(request) {
  const cache = await caches.open(PAGES_CACHE);
  return cache.match(request, { ignoreSearch: true, ignoreVary: true });
}

// Network first; a stored copy when the network fails (or is very slow); else the offline page for a
// navigation, a network error for a fetch (htmx then loads the URL as a page: see app.js).
async function offlinePage(event, url) {
  const request = event.request;
  const network = fetch(request);
  event.waitUntil(network.then((response) => storePage(url, response.clone())).catch(() => {}));
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(() => resolve(null), NETWORK_TIMEOUT_MS); });
  try {
    const first = await Promise.race([network, slow]);
    if (first) {
      clearTimeout(timer);
      return first;
    }
    const hit = await storedPage(request);
    return hit || await network;
  } catch (err) {
    clearTimeout(timer);
    const hit = await storedPage(request);
    if (hit) return hit;
    if (request.mode === "navigate") {
      const offline = await caches.match(OFFLINE_URL);
      if (offline) return offline;
    }
    return Response.error();
  }
}

// Fetch the offline pages that are missing or old, with the user's cookie, so that the forms open
// without a network even if they were never opened. A redirect (signed out) is not followed or kept.
async function warm(paths) {
  const cache = await caches.open(PAGES_CACHE);
  await Promise.all(paths.filter((path) => PAGE_PATHS.includes(path)).map(async (path) => {
    const url = new URL(path, self.location.origin);
    const hit = await cache.match(url.href, { ignoreVary: true });
    if (hit && Date.now() - Number(hit.headers.get(STORED_AT) || 0) < WARM_MAX_AGE_MS) return;
    try {
      await storePage(url, await fetch(url.href, { credentials: "same-origin", redirect: "manual" }));
    } catch (err) {
      /* no network: the next offline page opened online tries again */
    }
  }));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (PAGE_PATHS.includes(url.pathname) && !isFragmentRequest(request)) {
    event.respondWith(offlinePage(event, url));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (SHELL_URLS.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

// Background sync (where the browser has it): wake the open pages, which hold the outbox.
self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((pages) => {
    if (!pages.length) throw new Error("no open page to send the outbox"); // the browser retries later
    pages.forEach((page) => page.postMessage("guanai:flush"));
  }));
});

function deleteCaches(prefix) {
  return caches.keys().then((keys) => Promise.all(
    keys.filter((key) => key.startsWith(prefix)).map((key) => caches.delete(key))
  ));
}

self.addEventListener("message", (event) => {
  const data = event.data;
  if (data === "guanai:clear-pages") {
    // The stored pages show the user's children: gone when the session is (static/js/outbox/store.js
    // clearAppData). The shell holds nothing of anyone and stays, so the phone still works offline.
    event.waitUntil(deleteCaches("guanai-pages-"));
  } else if (data && data.type === "guanai:warm" && PAGE_PATHS.includes(data.from)) {
    event.waitUntil(warm(PAGE_PATHS));
  }
});
