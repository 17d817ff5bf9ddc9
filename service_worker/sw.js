// fieldapp service worker (SPEC §5): caches the app shell only, in a cache named by the shell's
// version, and removes older versions on activate. It never caches /api/ answers or any page
// that holds case data: navigations go to the network, and only when it fails does the cached
// shell (which holds none) answer, routing on the client from the encrypted local store.

const VERSION = "__SHELL_VERSION__"; // replaced by the server with a hash of the shell files
const CACHE = `fieldapp-shell-${VERSION}`;
const SHELL = __SHELL_URLS__;
const SHELL_PAGE = "/tablet";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("fieldapp-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== "GET") return;
  if (url.pathname.startsWith("/api/")) return; // always the network, never a cache
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(event.request)));
    return;
  }
  if (event.request.mode === "navigate") {
    // Pages carry case data: fetched, never stored. Offline, the shell takes over.
    event.respondWith(fetch(event.request).catch(() => caches.match(SHELL_PAGE)));
  }
});
