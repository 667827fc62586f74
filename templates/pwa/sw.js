/* 关爱通 service worker. Served at /sw.js with Cache-Control: no-cache.
 * Precaches the shell (styles, scripts, icons, the offline page). Pages go network-first and are
 * never stored: they may hold a child's data. Without a network a page load gets the offline page. */
const VERSION = "{{ version }}";
const SHELL_CACHE = "guanai-shell-" + VERSION;
const SHELL_URLS = {{ urls|tojson }};
const OFFLINE_URL = {{ url_for('pwa.offline')|tojson }};

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
        keys.filter((key) => key.startsWith("guanai-") && key !== SHELL_CACHE).map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (SHELL_URLS.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

self.addEventListener("message", (event) => {
  // Sent on logout: drop every cache this app made.
  if (event.data === "guanai:clear-caches") {
    event.waitUntil(caches.keys().then((keys) => Promise.all(
      keys.filter((key) => key.startsWith("guanai-")).map((key) => caches.delete(key))
    )));
  }
});
