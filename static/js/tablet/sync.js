// The sync client (SPEC §4): push the outbox before pulling, one pull page per transaction,
// back off on 503 and network errors, wipe on 410, refetch on 409 reset_required (keeping the
// outbox), and a single runner across tabs (Web Locks).

import { deviceToday } from "./clock.js";
import { TabletStore } from "./store.js";

const BATCH = 200;

export class DeviceRevoked extends Error {}
export class RetryLater extends Error {}
// The session ended (signed out elsewhere, password changed, expired): the user must sign in
// again online. Retrying alone would fail for ever, so the UI asks instead.
export class SignInRequired extends Error {}

export class SyncClient {
  constructor(store, { csrfToken, fetchImpl = (...args) => fetch(...args), onProgress = () => {} } = {}) {
    this.store = store;
    this.csrfToken = csrfToken;
    this.fetch = fetchImpl;
    this.onProgress = onProgress;
  }

  async request(method, path, body) {
    let response;
    try {
      response = await this.fetch(path, {
        method,
        credentials: "same-origin",
        headers: body ? { "Content-Type": "application/json", "X-CSRFToken": this.csrfToken } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new RetryLater(`network: ${error.message}`);
    }
    if (response.status === 410) throw new DeviceRevoked("This device was revoked.");
    if (response.status === 401) throw new SignInRequired("The session has ended.");
    if (response.status === 400 && body) {
      const answer = await response.clone().json().catch(() => ({}));
      if (answer.code === "csrf_failed") throw new SignInRequired("The session's token is no longer valid.");
    }
    if (response.status === 503 || response.status >= 500) throw new RetryLater(`server answered ${response.status}`);
    return response;
  }

  async ensureDevice() {
    let deviceId = await this.store.getMeta("deviceId");
    if (!deviceId) {
      deviceId = crypto.randomUUID();
      await this.store.setMeta({ deviceId });
    }
    const response = await this.request("POST", "/api/sync/devices", { device_id: deviceId, name: navigator.userAgent.slice(0, 80) });
    if (!response.ok) throw new RetryLater(`device registration answered ${response.status}`);
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
    let sent = 0;
    for (;;) {
      const batch = await this.store.outboxBatch(BATCH);
      if (!batch.length) return;
      const response = await this.request("POST", "/api/sync/push", { device_id: deviceId, mutations: batch.map(({ seq, ...m }) => ({ ...m, seq })) });
      if (!response.ok) throw new RetryLater(`push answered ${response.status}`);
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

  async pull(deviceId) {
    for (;;) {
      const cursor = await this.store.getMeta("cursor");
      const query = cursor ? `cursor=${encodeURIComponent(cursor)}` : `device_id=${deviceId}`;
      const response = await this.request("GET", `/api/sync/pull?${query}&limit=200`);
      if (response.status === 409) {
        await this.store.resetServerState();
        continue;
      }
      if (!response.ok) throw new RetryLater(`pull answered ${response.status}`);
      const page = await response.json();
      await this.store.applyPull({ ...page, device_date: deviceToday() });
      this.onProgress({ phase: "pull", done: page.changes.length, total: page.changes.length });
      if (!page.has_more) return;
    }
  }
}

// Exponential backoff with jitter for the automatic sync loop.
export function backoffDelay(attempt) {
  const base = Math.min(5 * 60000, 2000 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}
