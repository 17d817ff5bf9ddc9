// fieldapp's service worker kill switch (docs/deployment.md, "Service worker kill switch"):
// served at /sw.js instead of the real worker while FIELDAPP_SW_KILL_SWITCH=1. A tablet checks
// /sw.js on every load, installs this at once, and on activating it deletes every cache this
// site made, unregisters, and reloads the pages the old worker controlled, so they run from
// the network with no worker. A page that registers /sw.js again gets this again, which finds
// no page to reload (it controls none) and unregisters. It has no fetch handler: the network
// answers everything. Encrypted copies in IndexedDB are left alone: unsynced work is kept.

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) await caches.delete(name);
    await self.registration.unregister();
    for (const client of await self.clients.matchAll({ type: "window" })) client.navigate(client.url);
  })());
});
