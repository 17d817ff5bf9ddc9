// What the tablet keeps in the clear, for before an unlock: whose copy is whose (salted email
// hashes), wrong passwords in a row, a sign-out not yet sent. Owner of "fieldapp-device".

let db;

// One key in one transaction: its value, or the value change() makes of it (undefined deletes).
async function kv(key, change = (value) => value) {
  db ??= new Promise((resolve, reject) => {
    const open = indexedDB.open("fieldapp-device", 1);
    open.onupgradeneeded = () => {
      // From localStorage, where earlier versions kept them.
      const store = open.result.createObjectStore("kv");
      const salt = localStorage.getItem("fieldapp.tablet.salt");
      try {
        if (salt) store.put(JSON.parse(localStorage.getItem("fieldapp.tablet.known")), "known");
        if (salt) store.put(salt, "salt");
      } catch { /* unreadable: sign in online */ }
    };
    open.onsuccess = () => {
      localStorage.clear();
      resolve(open.result);
    };
    open.onerror = () => reject(open.error);
  });
  const tx = (await db).transaction("kv", "readwrite");
  const store = tx.objectStore("kv");
  const request = store.get(key);
  let value;
  request.onsuccess = () => {
    value = change(request.result);
    if (value === undefined) store.delete(key);
    else store.put(value, key);
  };
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(value);
    tx.onabort = tx.onerror = () => reject(tx.error);
  });
}

async function emailKey(email) {
  const salt = await kv("salt", (kept) => kept || crypto.randomUUID());
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}:${email}`));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export const knownUser = async (email) => (await kv("known"))?.[await emailKey(email)];

// A sign-in on the server: whose copy this is, and no sign-out is left to send.
export async function signedIn(email, userId) {
  const key = await emailKey(email);
  await kv("known", (known) => ({ ...known, [key]: userId }));
  await kv("logout", () => undefined);
}

export const forgetUser = (userId) => kv("known", (known) => Object.fromEntries(Object.entries(known || {}).filter(([, id]) => id !== userId)));

// Wrong passwords in a row for a user's copy: one more (1) or none (0); returns the count.
export const wrongPasswords = (userId, more) => kv(`wrong/${userId}`, (count) => (more ? (count || 0) + 1 : undefined));

// Ends the server session of `token` now, or at the next connection: the app's start, `online`,
// or a sign-in, which sends it first.
export async function endSession(token) {
  await kv("logout", () => token || "");
  await sendPendingLogout();
}

export async function sendPendingLogout() {
  for (let token; (token = await kv("logout")) !== undefined && navigator.onLine;) {
    const status = await fetch("/api/auth/logout", { method: "POST", headers: { "X-CSRFToken": token } }).then((r) => r.status, () => 0);
    if (!status || status === 429 || status >= 500) return; // kept for the next connection
    await kv("logout", (kept) => (kept === token ? undefined : kept));
  }
}
