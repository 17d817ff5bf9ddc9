// The tablet's local database (SPEC §5). This class alone owns the IndexedDB schema and its
// upgrades. One database per user. Record contents are encrypted (crypto.js); ids and index
// fields stay clear. Rule: all encryption happens before a transaction opens, and nothing else
// is awaited inside one (an IndexedDB transaction commits as soon as it has no pending work).

import { createDataKey, decryptJson, deriveWrappingKey, encryptJson, randomBytes, rewrapDataKey, unwrapDataKey } from "./crypto.js";

// Version 2 added the `server` store, version 3 `summaries`. Upgrades only ever add stores and
// indexes, so a tablet opening an older database keeps everything in it (including the outbox).
// A new version also closes any tab still running older code (onversionchange), so no writer
// that does not know a store is left once it exists.
const SCHEMA_VERSION = 3;
const PREFIX = "fieldapp-user-";
const STORES = {
  meta: { keyPath: "key" },                    // clear: salt, wrapped key, device id, next seq, cursor
  outbox: { keyPath: "seq" },                  // mutations waiting to be pushed, in seq order
  server: { keyPath: ["type", "id"] },         // records as the server last sent them
  records: { keyPath: ["type", "id"] },        // what the UI reads: server records and local edits
  rejected: { keyPath: "mutationId" },         // refused by the server: kept until the user acts
  conflicts: { keyPath: "id" },                // conflicts the server recorded
  held: { keyPath: "childId" },                // children this device holds
  summaries: { keyPath: "childId" },           // per child: what the caseload shows, sealed (see summaries())
};
const INDEXED = new Set(["records", "server"]); // by_type and by_child

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = transaction.onerror = () => reject(transaction.error || new Error("transaction aborted"));
  });
}

// Every transaction that changes a child's records marks the child's summary stale: a new
// random stamp, and no sealed content (so nothing of a child that leaves stays behind). It is a
// blind write, made wherever the transaction learns the child, with nothing awaited.
function staleSummary(tx, childId) {
  if (childId) tx.objectStore("summaries").put({ childId, stamp: crypto.randomUUID() });
}

// Deletes a record row, marking its child's summary stale.
function removeRecord(tx, key) {
  const records = tx.objectStore("records");
  const existing = records.get(key);
  existing.onsuccess = () => { if (existing.result) staleSummary(tx, existing.result.childId); };
  records.delete(key);
}

// The distinct keys of an index, from the index alone (no row is read).
function distinctKeys(index) {
  return new Promise((resolve, reject) => {
    const keys = [];
    const request = index.openKeyCursor(null, "nextunique");
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve(keys);
      keys.push(cursor.key);
      cursor.continue();
    };
    request.onerror = () => reject(request.error);
  });
}

function openDatabase(name) {
  const request = indexedDB.open(name, SCHEMA_VERSION);
  request.onupgradeneeded = (event) => {
    const db = request.result;
    for (const [store, options] of Object.entries(STORES)) {
      if (!db.objectStoreNames.contains(store)) {
        const created = db.createObjectStore(store, options);
        if (INDEXED.has(store)) {
          created.createIndex("by_type", "type");
          created.createIndex("by_child", "childId");
        }
      }
    }
    const outbox = request.transaction.objectStore("outbox");
    if (!outbox.indexNames.contains("by_record")) outbox.createIndex("by_record", "record");
    if (event.oldVersion === 1) {
      // Refetch everything into the new `server` store; the rest needs the key (finishUpgrade).
      request.transaction.objectStore("meta").delete("cursor");
    }
  };
  // Another tab still holds the database open with older code: it must close first.
  request.onblocked = () => TabletStore.onblocked();
  return promised(request);
}

export class WrongPassword extends Error {}

export class TabletStore {
  static onblocked = () => {};

  constructor(db, key, userId) {
    this.db = db;
    this.key = key;
    this.userId = userId;
    this.onclose = () => {};
    // Another tab is upgrading or wiping this database: let it, and tell the app it is locked.
    db.onversionchange = () => {
      db.close();
      this.key = null;
      this.onclose();
    };
  }

  static databaseName(userId) {
    return `${PREFIX}${userId}`;
  }

  // Creates the user's database on first sign-in, or unlocks it; a wrong password throws.
  static async open(userId, password) {
    const db = await openDatabase(TabletStore.databaseName(userId));
    const saltRow = await promised(db.transaction("meta").objectStore("meta").get("salt"));
    if (!saltRow) {
      const salt = randomBytes(16);
      const { wrapped, key } = await createDataKey(await deriveWrappingKey(password, salt));
      const tx = db.transaction("meta", "readwrite", { durability: "strict" });
      const meta = tx.objectStore("meta");
      meta.put({ key: "salt", value: salt });
      meta.put({ key: "wrappedKey", value: wrapped });
      meta.put({ key: "nextSeq", value: 1 });
      meta.put({ key: "upgradedTo", value: SCHEMA_VERSION });
      await finished(tx);
      return new TabletStore(db, key, userId);
    }
    const wrapped = await promised(db.transaction("meta").objectStore("meta").get("wrappedKey"));
    try {
      const key = await unwrapDataKey(await deriveWrappingKey(password, saltRow.value), wrapped.value);
      const store = new TabletStore(db, key, userId);
      await store.finishUpgrade();
      return store;
    } catch (error) {
      db.close();
      if (error instanceof DOMException && error.name === "OperationError") {
        throw new WrongPassword("The password does not unlock this tablet's data.");
      }
      throw error;
    }
  }

  // The part of an upgrade that needs the data key, run once after unlock. Version 1 outbox
  // rows did not name their record, and version 1 did not tell typing from queued work: an
  // outbox row gets its record; a record with queued changes takes what was queued as its
  // base; a draft with none is typing (shown as not saved, never overwritten by a pull).
  async finishUpgrade() {
    if ((await this.getMeta("upgradedTo")) >= 2) return;
    const read = this.db.transaction(["outbox", "records"]);
    const [outboxRows, recordRows] = await Promise.all([
      promised(read.objectStore("outbox").getAll()), promised(read.objectStore("records").getAll())]);
    const queuedFor = new Set();
    const outbox = [];
    for (const row of outboxRows) {
      const mutation = await decryptJson(this.key, row.sealed);
      queuedFor.add(`${mutation.record_type}/${mutation.record_id}`);
      if (!row.record) outbox.push({ ...row, record: [mutation.record_type, mutation.record_id] });
    }
    const records = [];
    for (const row of recordRows) {
      if (!row.pending || row.baseSealed || row.edited) continue;
      if (queuedFor.has(`${row.type}/${row.id}`)) {
        records.push({ ...row, baseSealed: row.sealed });
      } else if (row.type === "contact" && (await decryptJson(this.key, row.sealed)).status !== "submitted") {
        records.push({ ...row, edited: true, pending: false });
      }
    }
    const tx = this.db.transaction(["outbox", "records", "meta", "summaries"], "readwrite", { durability: "strict" });
    for (const row of outbox) tx.objectStore("outbox").put(row);
    for (const row of records) {
      tx.objectStore("records").put(row);
      staleSummary(tx, row.childId);
    }
    tx.objectStore("meta").put({ key: "upgradedTo", value: 2 });
    await finished(tx);
  }

  // After a password change on the server: the previous password unlocks the data key once
  // more, and the key is stored wrapped under the new one. A wrong previous password throws.
  static async changePassword(userId, previousPassword, newPassword) {
    const db = await openDatabase(TabletStore.databaseName(userId));
    try {
      const meta = db.transaction("meta").objectStore("meta");
      const [saltRow, wrappedRow] = await Promise.all([promised(meta.get("salt")), promised(meta.get("wrappedKey"))]);
      const salt = randomBytes(16);
      let wrapped;
      try {
        wrapped = await rewrapDataKey(await deriveWrappingKey(previousPassword, saltRow.value), wrappedRow.value,
          await deriveWrappingKey(newPassword, salt));
      } catch {
        throw new WrongPassword("The previous password does not unlock this tablet's data.");
      }
      const tx = db.transaction("meta", "readwrite", { durability: "strict" });
      tx.objectStore("meta").put({ key: "salt", value: salt });
      tx.objectStore("meta").put({ key: "wrappedKey", value: wrapped });
      await finished(tx);
    } finally {
      db.close();
    }
  }

  // Changes queued or typed and not sent, counted without the key: what would be lost if a
  // locked tablet's copy were removed.
  static async waitingCount(userId) {
    const db = await openDatabase(TabletStore.databaseName(userId));
    try {
      const read = db.transaction(["outbox", "records"]);
      const [queued, rows] = await Promise.all([promised(read.objectStore("outbox").count()), promised(read.objectStore("records").getAll())]);
      return queued + rows.filter((row) => row.edited).length;
    } finally {
      db.close();
    }
  }

  static async wipe(userId) {
    await promised(indexedDB.deleteDatabase(TabletStore.databaseName(userId)));
  }

  close() {
    this.db.close();
    this.key = null;
  }

  async getMeta(name) {
    const row = await promised(this.db.transaction("meta").objectStore("meta").get(name));
    return row ? row.value : undefined;
  }

  async setMeta(values) {
    const tx = this.db.transaction("meta", "readwrite", { durability: "strict" });
    for (const [key, value] of Object.entries(values)) tx.objectStore("meta").put({ key, value });
    await finished(tx);
  }

  async open_(row) {
    return row ? { ...row, data: await decryptJson(this.key, row.sealed), sealed: undefined } : null;
  }

  async record(type, id) {
    return this.open_(await promised(this.db.transaction("records").objectStore("records").get([type, id])));
  }

  async recordsOfType(type) {
    const rows = await promised(this.db.transaction("records").objectStore("records").index("by_type").getAll(type));
    return Promise.all(rows.map((row) => this.open_(row)));
  }

  async recordsOfChild(childId) {
    const rows = await promised(this.db.transaction("records").objectStore("records").index("by_child").getAll(childId));
    return Promise.all(rows.map((row) => this.open_(row)));
  }

  // What the caseload shows of each child held, in child id order, without decrypting every
  // record: one small sealed summary per child, kept apart from the records. `build` makes one
  // from the child's records of `types` (as record() returns them); `version` names its shape.
  // Every transaction that changes a child's records makes its summary stale (staleSummary); a
  // missing, stale or older one is made again here and stored, unless the child's records
  // changed meanwhile (the stamp read with them moved on).
  async summaries(build, { types, version }) {
    const read = this.db.transaction(["records", "summaries"]);
    const [childKeys, rows] = await Promise.all([
      promised(read.objectStore("records").index("by_type").getAllKeys("child")),
      promised(read.objectStore("summaries").getAll())]);
    const rowOf = new Map(rows.map((row) => [row.childId, row]));
    const ids = childKeys.map(([, id]) => id);
    const current = (id) => rowOf.has(id) && rowOf.get(id).sealed && rowOf.get(id).version === version;
    const [kept, made] = await Promise.all([
      Promise.all(ids.filter(current).map(async (id) => [id, await decryptJson(this.key, rowOf.get(id).sealed)])),
      this.makeSummaries(ids.filter((id) => !current(id)), build, { types, version })]);
    const summaryOf = new Map([...kept, ...made]);
    return ids.filter((id) => summaryOf.has(id)).map((id) => summaryOf.get(id));
  }

  async makeSummaries(childIds, build, { types, version }) {
    if (!childIds.length) return [];
    const read = this.db.transaction(["records", "summaries"]);
    const byChild = read.objectStore("records").index("by_child");
    const stamps = read.objectStore("summaries");
    const snapshots = await Promise.all(childIds.map((id) => Promise.all([promised(byChild.getAll(id)), promised(stamps.get(id))])));
    const made = (await Promise.all(snapshots.map(async ([rows, row]) => {
      const opened = await Promise.all(rows.filter((r) => types.includes(r.type)).map((r) => this.open_(r)));
      const child = opened.find((r) => r.type === "child");
      if (!child) return null;
      const summary = build(opened);
      return { childId: child.id, stamp: row && row.stamp, summary, sealed: await encryptJson(this.key, summary) };
    }))).filter(Boolean);
    const tx = this.db.transaction("summaries", "readwrite");
    const store = tx.objectStore("summaries");
    for (const { childId, stamp, sealed } of made) {
      const now = store.get(childId);
      now.onsuccess = () => { if ((now.result && now.result.stamp) === stamp) store.put({ childId, stamp, version, sealed }); };
    }
    await finished(tx);
    return made.map(({ childId, summary }) => [childId, summary]);
  }

  // Saves a local edit without queueing it (every keystroke of a draft lands here). The row
  // keeps its base (what the server has, or will have once the outbox drains) so a later save
  // can send only what changed, and `edited` keeps a pull from overwriting the typing.
  async saveLocal(type, id, childId, data) {
    const sealed = await encryptJson(this.key, data);
    const tx = this.db.transaction(["records", "summaries"], "readwrite", { durability: "strict" });
    const records = tx.objectStore("records");
    const existing = records.get([type, id]);
    existing.onsuccess = () => {
      if (existing.result && existing.result.childId !== childId) staleSummary(tx, existing.result.childId);
      records.put({ ...(existing.result || { type, id, childId }), childId, sealed, edited: true });
    };
    staleSummary(tx, childId);
    await finished(tx);
  }

  // A local record that was never queued (an abandoned draft) is simply forgotten.
  async removeLocal(type, id) {
    const tx = this.db.transaction(["records", "summaries"], "readwrite", { durability: "strict" });
    removeRecord(tx, [type, id]);
    await finished(tx);
  }

  // What the server has of a record, or will have once the outbox drains: the `old` side of
  // an update. Null if the server has never heard of it.
  async base(type, id) {
    const row = await promised(this.db.transaction("records").objectStore("records").get([type, id]));
    return row && row.baseSealed ? decryptJson(this.key, row.baseSealed) : null;
  }

  // The record change, the outbox entries and the seq increments: one transaction. `record`
  // (optional) becomes both the local data and the new base; `remove` lists [type, id] rows to
  // delete with it (a finished in-progress form, a deleted draft); `dismiss` lists [store, key]
  // entries of "rejected" or "conflicts" that the queued change answers (a corrected contact,
  // a decided conflict), so they go only once the answer is queued; `history` ({recordId,
  // entries}) adds to what the tablet keeps of the record's resolved conflicts.
  async queue(mutations, record, { remove = [], dismiss = [], history = null } = {}) {
    const list = Array.isArray(mutations) ? mutations : [mutations];
    const sealedMutations = await Promise.all(list.map((m) => encryptJson(this.key, m)));
    const sealed = record ? await encryptJson(this.key, record.data) : null;
    const sealedHistory = history
      ? await encryptJson(this.key, [...(await this.history(history.recordId)), ...history.entries]) : null;
    const tx = this.db.transaction(["meta", "outbox", "records", "rejected", "conflicts", "summaries"], "readwrite", { durability: "strict" });
    for (const [name, key] of dismiss) tx.objectStore(name).delete(key);
    if (history) tx.objectStore("meta").put({ key: `history/${history.recordId}`, value: sealedHistory });
    const meta = tx.objectStore("meta");
    const records = tx.objectStore("records");
    const seqRequest = meta.get("nextSeq");
    seqRequest.onsuccess = () => {
      let seq = seqRequest.result.value;
      list.forEach((mutation, index) => {
        tx.objectStore("outbox").put({ seq, mutationId: mutation.mutation_id, record: [mutation.record_type, mutation.record_id], sealed: sealedMutations[index] });
        seq += 1;
      });
      meta.put({ key: "nextSeq", value: seq });
    };
    if (record) {
      const existing = records.get([record.type, record.id]);
      existing.onsuccess = () => {
        const before = existing.result;
        if (before) staleSummary(tx, before.childId);
        records.put({ version: before ? before.version : null, type: record.type, id: record.id, childId: record.childId,
          sealed, baseSealed: sealed, pending: list.length > 0 || Boolean(before && before.pending), edited: false });
      };
      staleSummary(tx, record.childId);
    }
    for (const key of remove) removeRecord(tx, key);
    await finished(tx);
  }

  async outboxCount() {
    return promised(this.db.transaction("outbox").objectStore("outbox").count());
  }

  // Small secrets kept sealed in meta (the user's profile): not for ids or counters.
  async setSealedMeta(name, value) {
    await this.setMeta({ [name]: await encryptJson(this.key, value) });
  }

  async getSealedMeta(name) {
    const sealed = await this.getMeta(name);
    return sealed ? decryptJson(this.key, sealed) : null;
  }

  // Records with typing not yet saved (drafts of contacts, addenda and return visits).
  async unsavedCount() {
    const rows = await promised(this.db.transaction("records").objectStore("records").getAll());
    return rows.filter((row) => row.edited).length;
  }

  async outboxBatch(limit) {
    const rows = await promised(this.db.transaction("outbox").objectStore("outbox").getAll(null, limit));
    return Promise.all(rows.map(async (row) => ({ ...(await decryptJson(this.key, row.sealed)), seq: row.seq })));
  }

  // Applies the server's answers: answered mutations leave the outbox; refused ones and
  // conflicts are kept, with the mutation as it was sent, in their own stores until the user acts.
  async settle(results) {
    const kept = [];
    for (const result of results) {
      if (result.status === "rejected" || result.status === "conflict") {
        kept.push({ result, sealedResult: await encryptJson(this.key, result) });
      }
    }
    const tx = this.db.transaction(["outbox", "rejected", "conflicts"], "readwrite", { durability: "strict" });
    const outbox = tx.objectStore("outbox");
    for (const { result, sealedResult } of kept) {
      const store = tx.objectStore(result.status === "rejected" ? "rejected" : "conflicts");
      const request = outbox.get(result.seq);
      request.onsuccess = () => {
        const entry = request.result;
        store.put({ [store.keyPath]: result.mutation_id, sealed: sealedResult, mutation: entry ? entry.sealed : null });
      };
    }
    const unapplied = [];
    // A record passed to the team leader's review is held on the server as sent: nothing to undo.
    for (const { result } of kept.filter(({ result }) => !result.review)) {
      const request = outbox.get(result.seq);
      request.onsuccess = () => { if (request.result && request.result.record) unapplied.push(request.result.record); };
    }
    for (const result of results) outbox.delete(result.seq);
    await finished(tx);
    await this.revertUnapplied(unapplied);
  }

  // A change the server refused, or kept its own values against, leaves the tablet's copy
  // showing what the server does not have. Unless more changes are queued or there is typing,
  // the copy goes back to the server's (the words sent stay under "Needs your attention"). A
  // record the server never accepted becomes a draft to correct, kept as unsaved typing.
  async revertUnapplied(keys) {
    const updates = [];
    for (const key of keys) {
      const read = this.db.transaction(["records", "server"]);
      const [local, server] = await Promise.all([promised(read.objectStore("records").get(key)), promised(read.objectStore("server").get(key))]);
      if (!local || local.edited) continue;
      if (server) {
        updates.push({ key, row: { type: server.type, id: server.id, childId: server.childId, version: server.version, sealed: server.sealed, baseSealed: server.sealed, pending: false, edited: false } });
      } else {
        const data = await decryptJson(this.key, local.sealed);
        if (local.type === "contact") data.status = "draft";
        updates.push({ key, row: { ...local, sealed: await encryptJson(this.key, data), baseSealed: undefined, pending: false, edited: true } });
      }
    }
    if (!updates.length) return;
    const tx = this.db.transaction(["records", "outbox", "summaries"], "readwrite", { durability: "strict" });
    const records = tx.objectStore("records");
    for (const { key, row } of updates) {
      const local = records.get(key);
      const queued = tx.objectStore("outbox").index("by_record").count(key);
      let answers = 0;
      const decide = () => {
        if (++answers < 2) return;
        if (queued.result > 0 || !local.result || local.result.edited) return;
        records.put(row);
        staleSummary(tx, local.result.childId);
        staleSummary(tx, row.childId);
      };
      local.onsuccess = decide;
      queued.onsuccess = decide;
    }
    await finished(tx);
  }

  // Local work whose child is no longer on this tablet (the child left the caseload).
  // Once the server has answered for one (its outbox entries are gone; a refusal or review is
  // kept with the words sent, under rejected or conflicts), the copy here is dropped.
  // Only the indexes' keys are read to find them; rows are read only for children not held.
  async orphans() {
    const read = this.db.transaction("records");
    const records = read.objectStore("records");
    const [childKeys, named] = await Promise.all([
      promised(records.index("by_type").getAllKeys("child")), distinctKeys(records.index("by_child"))]);
    const children = new Set(childKeys.map(([, id]) => id));
    const gone = named.filter((childId) => !children.has(childId));
    if (!gone.length) return [];
    const byChild = this.db.transaction("records").objectStore("records").index("by_child");
    const rows = (await Promise.all(gone.map((childId) => promised(byChild.getAll(childId))))).flat();
    const orphaned = rows.filter((row) => row.type !== "child" && (row.edited || row.pending));
    if (!orphaned.length) return [];
    const tx = this.db.transaction(["records", "outbox", "summaries"], "readwrite", { durability: "strict" });
    const kept = [];
    for (const row of orphaned) {
      if (row.edited) { kept.push(row); continue; }
      const key = [row.type, row.id];
      const local = tx.objectStore("records").get(key);
      const waiting = tx.objectStore("outbox").index("by_record").count(key);
      let answers = 0;
      const decide = () => {
        if (++answers < 2) return;
        const now = local.result; // as it is now, not as first read
        if (!now) return;
        if (waiting.result > 0 || now.edited) kept.push(now);
        else if (now.pending) removeRecord(tx, key); // answered: see above
      };
      local.onsuccess = decide;
      waiting.onsuccess = decide;
    }
    await finished(tx);
    return Promise.all(kept.map((row) => this.open_(row)));
  }

  // Refused mutations and conflicts, each with the server's answer and what was sent.
  async attention() {
    const items = [];
    for (const store of ["rejected", "conflicts"]) {
      const rows = await promised(this.db.transaction(store).objectStore(store).getAll());
      for (const row of rows) {
        items.push({ store, key: row[store === "rejected" ? "mutationId" : "id"],
          result: await decryptJson(this.key, row.sealed),
          mutation: row.mutation ? await decryptJson(this.key, row.mutation) : null });
      }
    }
    return items;
  }

  // What the server refused of one record, with the words sent (newest last).
  async refusals(type, id) {
    const items = (await this.attention()).filter((item) => item.store === "rejected" && item.mutation
      && item.mutation.record_type === type && item.mutation.record_id === id);
    return items.sort((a, b) => a.result.seq - b.result.seq);
  }

  // The conflicts of a record the practitioner decided on this tablet: what each side held,
  // what was chosen, by whom and when. Kept sealed, for the record's history.
  async history(recordId) {
    return (await this.getSealedMeta(`history/${recordId}`)) || [];
  }

  // "Discard" on a refused change, after the practitioner confirmed: the refusal goes, and
  // with it the tablet's copy of a record the server never accepted (a draft to correct), unless
  // other changes to it wait in the outbox.
  async discardRefused(key, recordKey) {
    const tx = this.db.transaction(["rejected", "records", "outbox", "summaries"], "readwrite", { durability: "strict" });
    tx.objectStore("rejected").delete(key);
    if (recordKey) {
      const queued = tx.objectStore("outbox").index("by_record").count(recordKey);
      queued.onsuccess = () => { if (queued.result === 0) removeRecord(tx, recordKey); };
    }
    await finished(tx);
  }

  async dismiss(store, key) {
    const tx = this.db.transaction(store, "readwrite", { durability: "strict" });
    tx.objectStore(store).delete(key);
    await finished(tx);
  }

  // How many rows a store holds, counted without opening any (e.g. refused or in conflict).
  async count(store) {
    return promised(this.db.transaction(store).objectStore(store).count());
  }

  // One pull page and its cursor: one transaction. The server store takes the page as sent;
  // the records the UI reads take it too, except where there is local work.
  async applyPull(page) {
    const rows = [];
    for (const change of page.changes) {
      if (change.op === "delete") continue;
      const childId = change.record_type === "child" ? change.record_id : change.data.child_id || null;
      const sealed = await encryptJson(this.key, change.data);
      rows.push({ type: change.record_type, id: change.record_id, childId, version: change.version, sealed, baseSealed: sealed, pending: false, edited: false });
    }
    const tx = this.db.transaction(["server", "records", "meta", "held", "outbox", "summaries"], "readwrite", { durability: "strict" });
    const server = tx.objectStore("server");
    const records = tx.objectStore("records");
    const waiting = tx.objectStore("outbox").index("by_record");
    // Local work (typing, or changes still in the outbox) keeps its row as it is, through an
    // upsert, a delete or a purge. Its base stays what that work started from, so saving it
    // later sends only what the practitioner changed and the server merges the rest; a record
    // whose child has left is still shown, under "Needs your attention", until it is sent.
    // Two reads, then one decision; requests run in the order they are made, so the page's
    // order is kept.
    const unlessLocalWork = (key, change) => {
      const existing = records.get(key);
      const queued = waiting.count(key);
      let answers = 0;
      const decide = () => {
        if (++answers < 2) return;
        const local = existing.result;
        if (queued.result > 0 || (local && local.edited)) return; // a queued delete has no row
        if (local) staleSummary(tx, local.childId);
        change();
      };
      existing.onsuccess = decide;
      queued.onsuccess = decide;
    };
    // A record that leaves the tablet takes what the tablet kept of its resolved conflicts
    // (both texts) with it: no case text stays behind for a child no longer held.
    const forget = (type, id) => {
      records.delete([type, id]);
      if (type === "contact") tx.objectStore("meta").delete(`history/${id}`);
    };
    const byKey = new Map(rows.map((row) => [`${row.type}/${row.id}`, row]));
    for (const change of page.changes) {
      const key = [change.record_type, change.record_id];
      const row = byKey.get(`${change.record_type}/${change.record_id}`);
      if (change.op === "delete" || !row) {
        server.delete(key);
        unlessLocalWork(key, () => forget(change.record_type, change.record_id));
      } else {
        server.put({ type: row.type, id: row.id, childId: row.childId, version: row.version, sealed: row.sealed });
        unlessLocalWork(key, () => {
          records.put(row);
          staleSummary(tx, row.childId);
        });
      }
    }
    for (const { record_type: type, record_id: id } of page.purge) {
      server.delete([type, id]);
      unlessLocalWork([type, id], () => forget(type, id));
      if (type === "child") tx.objectStore("held").delete(id);
    }
    for (const row of rows) if (row.type === "child") tx.objectStore("held").put({ childId: row.id });
    const meta = tx.objectStore("meta");
    meta.put({ key: "cursor", value: page.cursor });
    if (page.server_date) meta.put({ key: "clock", value: { serverDate: page.server_date, deviceDate: page.device_date } });
    await finished(tx);
  }

  // A record as the server last sent it (null if it never has).
  async serverRecord(type, id) {
    const row = await promised(this.db.transaction("server").objectStore("server").get([type, id]));
    return row ? decryptJson(this.key, row.sealed) : null;
  }

  // 409 reset_required: forget server state, keep the outbox, queued records and typing.
  async resetServerState() {
    const tx = this.db.transaction(["server", "records", "meta", "held", "summaries"], "readwrite", { durability: "strict" });
    const records = tx.objectStore("records");
    const cursorRequest = records.openCursor();
    const changed = new Set();
    cursorRequest.onsuccess = () => {
      const cursor = cursorRequest.result;
      if (!cursor) {
        for (const childId of changed) staleSummary(tx, childId);
        return;
      }
      if (!cursor.value.pending && !cursor.value.edited) {
        changed.add(cursor.value.childId);
        cursor.delete();
      }
      cursor.continue();
    };
    tx.objectStore("server").clear();
    tx.objectStore("held").clear();
    tx.objectStore("meta").delete("cursor");
    await finished(tx);
  }
}
