// The offline tablet app (SPEC §5): sign in once online, then unlock with the password, see the
// caseload with who is due (R1 computed here, unsynced contacts included), record contacts with
// every keystroke kept, and sync when the network returns.

import { assessChild } from "./compliance.js";
import { checkbox, dmy, field, h } from "./dom.js";
import { TabletStore, WrongPassword } from "./store.js";
import { backoffDelay, DeviceRevoked, SyncClient } from "./sync.js";

const IDLE_LOCK_MS = 15 * 60 * 1000;
const SYNC_INTERVAL_MS = 5 * 60 * 1000;
const KNOWN_USERS = "fieldapp.tablet.users"; // email -> {id, name}: no case data

const app = document.getElementById("tablet");
const state = { store: null, user: null, csrfToken: null, syncing: false, failures: 0, lastActivity: Date.now(), timer: null };

function knownUsers() {
  try { return JSON.parse(localStorage.getItem(KNOWN_USERS)) || {}; } catch { return {}; }
}

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

// ------------------------------------------------------------------ layout

function render(...content) {
  app.replaceChildren(...content);
}

function header() {
  return h("header", { className: "app-header" },
    h("a", { className: "brand", href: "/tablet", onclick: navigate }, "fieldapp"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, h("li", {}, h("a", { href: "/tablet", onclick: navigate }, "My caseload")))),
    h("div", { className: "who" }, h("span", {}, state.user.name),
      h("button", { type: "button", className: "button-secondary", onclick: signOut }, "Sign out")));
}

function statusBar() {
  return h("div", { className: "sync-bar" },
    h("p", { role: "status", id: "sync-status" }, ""),
    h("progress", { id: "sync-progress", max: "100", value: "0", hidden: true, "aria-label": "Sync progress" }),
    h("button", { type: "button", className: "button-secondary", onclick: () => syncNow() }, "Sync now"),
    h("p", { id: "storage-warning", className: "flash flash-error", hidden: true }, ""));
}

async function refreshStatus(message) {
  const status = document.getElementById("sync-status");
  if (!status || !state.store) return;
  const waiting = await state.store.outboxCount();
  const rejected = (await state.store.listSealed("rejected")).length;
  const conflicts = (await state.store.listSealed("conflicts")).length;
  let text = message || (waiting ? `${waiting} waiting to sync` : "All changes synced");
  if (rejected) text += ` · ${rejected} refused by the server`;
  if (conflicts) text += ` · ${conflicts} in conflict`;
  status.textContent = text;
  const warning = document.getElementById("storage-warning");
  if (warning) {
    const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : true;
    warning.hidden = persisted || !waiting;
    warning.textContent = "This browser may clear offline data when space runs low. Sync before closing.";
  }
}

function page(...content) {
  render(header(), h("main", { id: "main" }, statusBar(), ...content));
  refreshStatus();
}

// ------------------------------------------------------------------ routing

function navigate(event) {
  event.preventDefault();
  go(event.currentTarget.getAttribute("href"));
}

function go(path) {
  history.pushState({}, "", path);
  route();
}

window.addEventListener("popstate", () => route());

async function route() {
  if (!state.store) return signInScreen();
  const path = location.pathname.replace(/^\/tablet/, "") || "/";
  let match;
  if ((match = path.match(/^\/children\/([0-9a-f-]{36})\/contacts\/new$/))) return contactForm(match[1], null);
  if ((match = path.match(/^\/children\/([0-9a-f-]{36})$/))) return childScreen(match[1]);
  if ((match = path.match(/^\/contacts\/([0-9a-f-]{36})$/))) return contactScreen(match[1]);
  return caseloadScreen();
}

// ------------------------------------------------------------------ sign in / unlock

function signInScreen(error) {
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { className: "narrow", onsubmit: async (event) => {
    event.preventDefault();
    await signIn(email.value.trim().toLowerCase(), password.value);
  } },
  h("h1", {}, "Sign in"),
  error ? h("p", { className: "flash flash-error", role: "alert" }, error) : null,
  field("Email", email), field("Password", password),
  h("button", { type: "submit" }, "Sign in"));
  render(h("main", { id: "main" }, form));
}

async function signIn(email, password) {
  let user = null;
  let csrfToken = null;
  if (navigator.onLine) {
    try {
      const response = await fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
      if (response.status === 401) return signInScreen("Email or password is incorrect, or the account is locked.");
      if (response.ok) {
        const body = await response.json();
        user = body.user;
        csrfToken = body.csrf_token;
        localStorage.setItem(KNOWN_USERS, JSON.stringify({ ...knownUsers(), [email]: { id: user.id, name: user.name } }));
      }
    } catch { /* offline after all: unlock locally */ }
  }
  user = user || knownUsers()[email];
  if (!user) return signInScreen("Sign in once with a connection before working offline.");
  try {
    state.store = await TabletStore.open(user.id, password);
  } catch (error) {
    if (error instanceof WrongPassword) return signInScreen("That password does not unlock this tablet's data.");
    throw error;
  }
  state.user = user;
  state.csrfToken = csrfToken || (await state.store.getMeta("csrfToken"));
  if (csrfToken) await state.store.setMeta({ csrfToken });
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  touch();
  startTimers();
  await route();
  syncNow();
}

async function signOut() {
  const waiting = await state.store.outboxCount();
  if (waiting) {
    alertBox(`You have ${waiting} change${waiting === 1 ? "" : "s"} waiting to sync. Connect and choose "Sync now" before signing out, or they would be lost.`);
    return;
  }
  const userId = state.user.id;
  try {
    await fetch("/api/auth/logout", { method: "POST", headers: { "X-CSRFToken": state.csrfToken || "" } });
  } catch { /* offline: the local wipe is what matters */ }
  lock();
  await TabletStore.wipe(userId);
  signInScreen();
}

function alertBox(message) {
  const main = document.getElementById("main");
  main.prepend(h("p", { className: "flash flash-error", role: "alert" }, message));
}

// ------------------------------------------------------------------ idle lock and timers

function touch() {
  state.lastActivity = Date.now();
}

for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touch, { passive: true });

function lock() {
  if (state.store) state.store.close();
  state.store = null;
  clearInterval(state.timer);
}

function startTimers() {
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (Date.now() - state.lastActivity >= IDLE_LOCK_MS) {
      lock();
      signInScreen("Locked after 15 minutes without use. Enter your password to continue.");
    }
  }, 15000);
  setInterval(() => { if (state.store) syncNow(); }, SYNC_INTERVAL_MS);
}

window.addEventListener("online", () => { if (state.store) syncNow(); });

// ------------------------------------------------------------------ sync

async function syncNow() {
  if (!state.store || state.syncing) return;
  if (!navigator.onLine) {
    await refreshStatus();
    return; // no signal: nothing is sent; the "online" event starts the next sync
  }
  state.syncing = true;
  const progress = document.getElementById("sync-progress");
  if (progress) { progress.hidden = false; progress.value = 0; }
  await refreshStatus("Syncing…");
  const client = new SyncClient(state.store, {
    csrfToken: state.csrfToken,
    onProgress: ({ done, total }) => { if (progress && total) progress.value = Math.round((100 * done) / total); },
  });
  try {
    await client.run();
    state.failures = 0;
    await refreshStatus();
    if (!document.querySelector("form.contact-form")) await route();
  } catch (error) {
    if (error instanceof DeviceRevoked) {
      state.store = null;
      return signInScreen("This tablet was revoked; its data has been removed.");
    }
    state.failures += 1;
    await refreshStatus("Sync failed — will retry");
    setTimeout(() => syncNow(), backoffDelay(state.failures));
  } finally {
    state.syncing = false;
    if (progress) progress.hidden = true;
  }
}

// ------------------------------------------------------------------ screens

function childName(child) {
  return `${child.preferred_name || child.given_name} ${child.family_name}`;
}

async function assess(child) {
  const records = await state.store.recordsOfChild(child.id);
  const contacts = records.filter((r) => r.type === "contact").map((r) => r.data);
  const visits = records.filter((r) => r.type === "return_visit").map((r) => r.data);
  const unsynced = records.some((r) => r.type === "contact" && r.pending);
  return { ...assessChild(child, contacts, visits, today()), unsynced };
}

const STATUS_TEXT = { overdue: "Overdue", due_soon: "Due soon", on_track: "On track" };

async function caseloadScreen() {
  const children = (await state.store.recordsOfType("child")).map((r) => r.data);
  const rows = [];
  for (const child of children) rows.push({ child, result: await assess(child) });
  rows.sort((a, b) => (a.result.dueDate || "9999").localeCompare(b.result.dueDate || "9999"));
  const attention = await state.store.attention();
  page(h("h1", {}, "My caseload"),
    attention.length ? h("section", { className: "panel", "aria-labelledby": "attention" },
      h("h2", { id: "attention" }, "Needs your attention"),
      h("ul", { className: "record-list" }, attention.map((item) => h("li", {},
        h("strong", {}, item.store === "rejected" ? "Refused by the server" : "Conflict"), ": ",
        Object.entries(item.result.errors || {}).map(([field, messages]) => `${field}: ${messages.join(" ")}`).join("; "),
        item.mutation && item.mutation.data && item.mutation.data.child_views ? h("p", { className: "text" }, `Child's views as recorded: ${item.mutation.data.child_views}`) : null,
        h("button", { type: "button", className: "button-secondary", onclick: async () => { await state.store.dismiss(item.store, item.key); caseloadScreen(); } }, "Dismiss"))))) : null,
    rows.length ? h("table", { className: "caseload" },
      h("thead", {}, h("tr", {}, ["Child", "Last face-to-face contact", "Due", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map(({ child, result }) => h("tr", {},
        h("td", { "data-label": "Child" }, h("a", { href: `/tablet/children/${child.id}`, onclick: navigate }, childName(child))),
        h("td", { "data-label": "Last face-to-face contact" }, dmy(result.lastContactDate), result.unsynced ? h("span", { className: "muted" }, " (includes unsynced)") : null),
        h("td", { "data-label": "Due" }, dmy(result.dueDate)),
        h("td", { "data-label": "Status" }, result.inCare ? h("span", { className: `badge badge-${result.status.replace("_", "-")}` },
          result.status === "overdue" ? `Overdue by ${result.daysOverdue} day${result.daysOverdue === 1 ? "" : "s"}` : STATUS_TEXT[result.status]) : "Care ended")))))
      : h("p", {}, "No children on this tablet yet. Sync with a connection to fetch your caseload."));
}

async function childScreen(childId) {
  const record = await state.store.record("child", childId);
  if (!record) return caseloadScreen();
  const child = record.data;
  const contacts = (await state.store.recordsOfChild(childId)).filter((r) => r.type === "contact")
    .sort((a, b) => (b.data.contact_date || "").localeCompare(a.data.contact_date || ""));
  const result = await assess(child);
  page(h("p", { className: "breadcrumb" }, h("a", { href: "/tablet", onclick: navigate }, "Back to caseload")),
    h("h1", {}, childName(child)),
    h("p", {}, `Last face-to-face contact ${dmy(result.lastContactDate)} · next due ${dmy(result.dueDate)}`),
    h("p", {}, h("a", { className: "button", href: `/tablet/children/${childId}/contacts/new`, onclick: navigate }, "Record contact")),
    h("h2", {}, "Contacts"),
    contacts.length ? h("ul", { className: "record-list" }, contacts.map((c) => h("li", {},
      h("a", { href: `/tablet/contacts/${c.id}`, onclick: navigate }, `${dmy(c.data.contact_date)} · ${c.data.mode === "face_to_face" ? "Face-to-face" : c.data.mode}`),
      " ", h("span", { className: "badge" }, c.data.status === "submitted" ? "Submitted" : "Draft"),
      c.pending ? h("span", { className: "muted" }, " · not yet synced") : null)))
      : h("p", {}, "No contacts recorded yet."));
}

async function contactScreen(contactId) {
  const record = await state.store.record("contact", contactId);
  if (!record) return caseloadScreen();
  if (record.data.status !== "submitted") return contactForm(record.data.child_id, record);
  const c = record.data;
  const rows = [["Date of contact", dmy(c.contact_date)], ["Contact type", c.mode], ["Child seen", c.child_seen ? "Yes" : "No"],
    ["Child's views (in their own words)", c.child_views], ["Worries", c.worries], ["What's working well", c.working_well],
    ["What needs to happen", c.needs_to_happen], ["Safety scale", c.safety_scale]];
  page(h("p", { className: "breadcrumb" }, h("a", { href: `/tablet/children/${c.child_id}`, onclick: navigate }, "Back")),
    h("h1", {}, `Contact on ${dmy(c.contact_date)}`), record.pending ? h("p", { className: "muted" }, "Not yet synced.") : null,
    h("dl", { className: "facts wide" }, rows.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", { className: "text" }, value ?? "—")))));
}

const TEXT_FIELDS = [
  ["child_views", "Child's views (in their own words)", "textarea"], ["views_not_recorded_reason", "Reason views were not recorded", "textarea"],
  ["language_used", "Language used", "input"], ["third_party_name", "Third party name", "input"], ["third_party_role", "Third party role", "input"],
  ["worries", "Worries", "textarea"], ["working_well", "What's working well", "textarea"], ["needs_to_happen", "What needs to happen", "textarea"],
  ["notes", "Other notes", "textarea"],
];

function select(options, value) {
  return h("select", {}, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

async function contactForm(childId, existing) {
  const child = await state.store.record("child", childId);
  if (!child) return caseloadScreen();
  const contactId = existing ? existing.id : crypto.randomUUID();
  const saved = existing ? existing.data : (await state.store.record("contact", contactId))?.data;
  const data = saved || { child_id: childId, status: "draft", contact_date: today(), mode: "face_to_face", made_by: "practitioner", child_seen: false, seen_alone: false, interpreter_used: false, participants: [{ role: "child", name: childName(child.data), took_part_in_decisions: true }], actions: [] };
  const wasQueued = Boolean(existing && existing.data.queued);
  const controls = {};
  controls.contact_date = h("input", { type: "date", value: data.contact_date || "" });
  controls.mode = select([["face_to_face", "Face-to-face"], ["video", "Video"], ["phone", "Phone"]], data.mode);
  controls.made_by = select([["practitioner", "Me"], ["third_party", "Third party"]], data.made_by);
  controls.child_seen = h("input", { type: "checkbox", checked: data.child_seen });
  controls.seen_alone = h("input", { type: "checkbox", checked: data.seen_alone });
  controls.interpreter_used = h("input", { type: "checkbox", checked: data.interpreter_used });
  controls.views_method = select([["", "Choose…"], ["conversation", "Conversation"], ["play_or_drawing", "Play or drawing"], ["observation", "Observation"], ["advocate_or_interpreter", "Through an advocate or interpreter"], ["other", "Other"]], data.views_method || "");
  controls.safety_scale = h("input", { type: "number", min: "0", max: "10", value: data.safety_scale ?? "" });
  for (const [name, , kind] of TEXT_FIELDS) {
    controls[name] = kind === "textarea" ? h("textarea", {}) : h("input", { type: "text" });
    controls[name].value = data[name] || "";
  }
  const errors = h("div", { role: "alert" });

  function values() {
    const result = { ...data, child_id: childId };
    for (const [name, control] of Object.entries(controls)) {
      if (control.type === "checkbox") result[name] = control.checked;
      else if (name === "safety_scale") result[name] = control.value === "" ? null : Number(control.value);
      else result[name] = control.value === "" ? null : control.value;
    }
    return result;
  }

  // Every keystroke is kept: the draft is written to IndexedDB on each input. Writes run one
  // after another, each taking the form as it is then, so an older write never lands last.
  let saving = Promise.resolve();
  let dirty = false;
  function keep() {
    if (dirty) return;
    dirty = true;
    saving = saving.then(() => {
      dirty = false;
      return state.store.saveLocal("contact", contactId, childId, { ...values(), queued: wasQueued });
    });
  }
  const form = h("form", { className: "contact-form", oninput: keep, onchange: keep },
    h("fieldset", {}, h("legend", {}, "The contact"),
      h("div", { className: "row" }, field("Date of contact", controls.contact_date), field("Contact type", controls.mode), field("Made by", controls.made_by)),
      h("div", { className: "row" }, field("Third party name", controls.third_party_name), field("Third party role", controls.third_party_role)),
      h("div", { className: "row checks" }, checkbox("Child seen", controls.child_seen), checkbox("Seen alone", controls.seen_alone))),
    h("fieldset", {}, h("legend", {}, "The child's views"),
      field("Child's views (in their own words)", controls.child_views), field("How the views were gathered", controls.views_method),
      field("Reason views were not recorded", controls.views_not_recorded_reason),
      h("div", { className: "row" }, field("Language used", controls.language_used), checkbox("Interpreter used", controls.interpreter_used))),
    h("fieldset", {}, h("legend", {}, "Signs of Safety"),
      field("Worries", controls.worries), field("What's working well", controls.working_well), field("What needs to happen", controls.needs_to_happen),
      field("Safety scale", controls.safety_scale), field("Other notes", controls.notes)),
    errors,
    h("div", { className: "actions-bar" },
      h("button", { type: "submit", className: "button-secondary", value: "draft" }, "Save draft"),
      h("button", { type: "submit", value: "submit" }, "Submit")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submitting = event.submitter && event.submitter.value === "submit";
    const record = values();
    const problems = check(record, child.data, submitting);
    errors.replaceChildren(...problems.map((p) => h("p", { className: "field-error" }, p)));
    if (problems.length) return;
    record.status = submitting ? "submitted" : "draft";
    record.queued = true;
    const { queued, ...payload } = record;
    void queued;
    const mutation = wasQueued
      ? { mutation_id: crypto.randomUUID(), op: "update", record_type: "contact", record_id: contactId, base_version: null,
          data: Object.fromEntries(Object.entries(payload).filter(([k, v]) => k !== "status" && k !== "child_id" && JSON.stringify(v) !== JSON.stringify(existing.data[k])).map(([k, v]) => [k, { old: existing.data[k] ?? null, new: v }])) }
      : { mutation_id: crypto.randomUUID(), op: "create", record_type: "contact", record_id: contactId, base_version: null, data: payload };
    await state.store.queue(mutation, { type: "contact", id: contactId, childId, data: record });
    if (wasQueued && submitting) {
      await state.store.queue({ mutation_id: crypto.randomUUID(), op: "submit", record_type: "contact", record_id: contactId, base_version: null, data: {} }, null);
    }
    go(`/tablet/children/${childId}`);
    if (navigator.onLine) syncNow();
  });

  page(h("p", { className: "breadcrumb" }, h("a", { href: `/tablet/children/${childId}`, onclick: navigate }, `Back to ${childName(child.data)}`)),
    h("h1", {}, "Record contact ", h("span", { className: "subtitle" }, `with ${childName(child.data)}`)), form);
}

// The same rules the server applies on submit (R1, R6), so the tablet refuses early and clearly.
function check(record, child, submitting) {
  const problems = [];
  if (record.contact_date && record.contact_date > today()) problems.push("Date of contact: the date cannot be in the future.");
  if (record.contact_date && record.contact_date < child.care_start_date) problems.push("Date of contact: the date cannot be before the child came into care.");
  if (record.safety_scale !== null && (record.safety_scale < 0 || record.safety_scale > 10 || !Number.isInteger(record.safety_scale))) problems.push("Safety scale: a whole number from 0 to 10.");
  if (submitting) {
    if (!record.contact_date) problems.push("Date of contact: enter the date of the contact.");
    if (record.made_by === "third_party" && (!record.third_party_name || !record.third_party_role)) problems.push("Third party name and role: both are needed for a third-party contact.");
    if (record.mode === "face_to_face" && !record.child_views && !record.views_not_recorded_reason) problems.push("Child's views (in their own words): record them, or give the reason they were not recorded.");
    if (record.child_views && !record.views_method) problems.push("How the views were gathered: choose one.");
  }
  return problems;
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
signInScreen();
