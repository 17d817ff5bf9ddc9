// The sync client (SPEC §4): push the outbox before pulling, one pull page per transaction,
// back off on 503 and network errors, back off longer on a server error (500), wipe on 410,
// refetch on 409 reset_required (keeping the outbox), and a single runner across tabs (Web Locks).

import { deviceToday } from "./clock.js";
import { TabletStore } from "./store.js";

const BATCH = 200;

export class DeviceRevoked extends Error {}
// Try again soon, with the ordinary backoff: no connection, the server busy or its database
// unavailable (503, and 502/504 from a proxy in front of it), or another answer the sync could
// not use. `status` is the HTTP status, null for a network error.
export class RetryLater extends Error {
  constructor(message, { status = null } = {}) {
    super(message);
    this.status = status;
  }
}
// The server failed on this request (500, or another 5xx that is not about being busy): a bug,
// which an immediate retry will most likely meet again. Still retried, with a longer backoff
// (serverErrorDelay), and nothing is dropped: the outbox keeps everything until it is answered.
export class ServerError extends RetryLater {}
// The 5xx answers that mean "busy or briefly away": retried with the ordinary backoff.
const BUSY = new Set([502, 503, 504]);
// The session ended (signed out elsewhere, password changed, expired): the user must sign in
// again online. Retrying alone would fail for ever, so the UI asks instead.
export class SignInRequired extends Error {}

export class SyncClient {
  constructor(store, { session, onProgress }) {
    this.store = store;
    this.session = session;
    this.onProgress = onProgress;
  }

  async request(method, path, body, retry = true) {
    let response;
    try {
      response = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: body ? { "Content-Type": "application/json", "X-CSRFToken": this.session.csrfToken } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new RetryLater(`network: ${error.message}`, { status: null });
    }
    if (response.status === 410) throw new DeviceRevoked("This device was revoked.");
    if (response.status === 401) throw (await this.revoked()) ? new DeviceRevoked("This device was revoked.") : new SignInRequired("The session has ended.");
    if (response.status === 400 && body) {
      const answer = await response.clone().json().catch(() => ({}));
      if (answer.code === "csrf_failed") {
        // Another tab signed in, renewing the session's token: taken once, if it is this user's.
        const me = retry && (await (await this.request("GET", "/api/me")).json());
        if (me?.user?.id !== this.store.userId) throw new SignInRequired("The session's token is no longer valid.");
        this.session.csrfToken = me.csrf_token;
        await this.store.setMeta({ csrfToken: me.csrf_token });
        return this.request(method, path, body, false);
      }
    }
    if (BUSY.has(response.status)) throw new RetryLater(`server busy: ${response.status}`, { status: response.status });
    if (response.status >= 500) throw new ServerError(`server error: ${response.status}`, { status: response.status });
    return response;
  }

  // Revoking ends the user's sessions, so a 401 may mean revoked: the server tells the device.
  async revoked() {
    const id = await this.store.getMeta("deviceId");
    return !!id && (await fetch(`/api/me?device_id=${id}`).then((r) => r.status, () => 0)) === 410;
  }

  async ensureDevice() {
    let deviceId = await this.store.getMeta("deviceId");
    if (!deviceId) {
      deviceId = crypto.randomUUID();
      await this.store.setMeta({ deviceId });
    }
    const response = await this.request("POST", "/api/sync/devices", { device_id: deviceId, name: (await this.store.getMeta("deviceName")) || navigator.userAgent.slice(0, 200) });
    if (!response.ok) throw new RetryLater(`device registration answered ${response.status}`, { status: response.status });
    return deviceId;
  }

  // One full sync. Runs in at most one tab at a time for this user.
  run() {
    const work = () => this.syncOnce();
    if (navigator.locks) return navigator.locks.request(`fieldapp-sync-${this.store.userId}`, work);
    return work();
  }

  async syncOnce() {
    try {
      const deviceId = await this.ensureDevice();
      await this.push(deviceId);
      await this.pull(deviceId);
    } catch (error) {
      if (error instanceof DeviceRevoked) {
        const userId = this.store.userId;
        this.store.close();
        await TabletStore.wipe(userId);
      }
      throw error;
    }
  }

  async push(deviceId) {
    const total = await this.store.outboxCount();
    const unsent = await TabletStore.waitingCount(this.store.userId);
    let sent = 0;
    for (;;) {
      const batch = await this.store.outboxBatch(BATCH);
      if (!batch.length) return;
      const response = await this.request("POST", `/api/sync/push?unsent=${unsent}`, { device_id: deviceId, mutations: batch.map(({ seq, ...m }) => ({ ...m, seq })) });
      if (!response.ok) throw new RetryLater(`push answered ${response.status}`, { status: response.status });
      const body = await response.json();
      await this.store.settle(body.results);
      sent += body.results.length;
      this.onProgress({ phase: "push", done: sent, total });
      if (body.results.length < batch.length) {
        // The server stopped at a gap; anything at or below last_seq it has already seen.
        throw new RetryLater(`push stopped at seq ${body.last_seq}`);
      }
    }
  }

  // The pull's total is unknown (a page says only whether more follow), so its progress is
  // the number of pages applied, reported before each page is asked for.
  async pull(deviceId) {
    let pages = 0;
    const unsent = await TabletStore.waitingCount(this.store.userId);
    for (;;) {
      this.onProgress({ phase: "pull", pages });
      const cursor = await this.store.getMeta("cursor");
      const query = cursor ? `cursor=${encodeURIComponent(cursor)}` : `device_id=${deviceId}`;
      const response = await this.request("GET", `/api/sync/pull?${query}&limit=200&unsent=${unsent}`);
      if (response.status === 409) {
        await this.store.resetServerState();
        continue;
      }
      if (!response.ok) throw new RetryLater(`pull answered ${response.status}`, { status: response.status });
      const page = await response.json();
      await this.store.applyPull({ ...page, device_date: deviceToday() });
      pages += 1;
      if (!page.has_more) return;
    }
  }
}

// Exponential backoff with jitter for the automatic sync loop (503, network errors).
export function backoffDelay(attempt) {
  const base = Math.min(5 * 60000, 2000 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

// After a server error (500): 30 s, 1 min, 2 min, 4 min, 8 min, then every 10 min. No jitter:
// a bug is not load, and the practitioner is told when the next try is.
export const SERVER_ERROR_FIRST_DELAY_MS = 30 * 1000;
export const SERVER_ERROR_MAX_DELAY_MS = 10 * 60 * 1000;

// `attempt` counts the server errors in a row, from 1.
export function serverErrorDelay(attempt) {
  return Math.min(SERVER_ERROR_MAX_DELAY_MS, SERVER_ERROR_FIRST_DELAY_MS * 2 ** Math.max(0, attempt - 1));
}
