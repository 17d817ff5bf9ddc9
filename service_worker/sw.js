// Placeholder service worker: takes control so the app is installable. The offline shell cache
// arrives with the tablet work (issue 5); until then it never caches anything, so no case data
// can end up in a cache.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
