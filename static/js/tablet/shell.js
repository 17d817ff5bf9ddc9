// The tablet's frame: who is signed in, the header, the sync status bar and client-side
// navigation. Screens build their content and hand it to page().

import { clockWarning, dateTime, deviceToday } from "./clock.js";
import { dmy, h } from "./dom.js";

export const state = {
  store: null, user: null, csrfToken: null, syncing: false, failures: 0, serverErrors: 0, retry: null,
  lastActivity: Date.now(), timer: null, signInRequired: false, moved: false, syncAgain: false, locking: false,
};

// Set by main.js: the screens call back into routing, sync and sign-out without importing it.
export const hooks = { route: async () => {}, syncNow: async () => {}, signOut: async () => {}, signInAgain: () => {} };

const app = document.getElementById("tablet");

export function render(...content) {
  app.replaceChildren(...content);
}

export function navigate(event) {
  event.preventDefault();
  go(event.currentTarget.getAttribute("href"));
}

export function go(path) {
  history.pushState({}, "", path);
  state.moved = true;
  return hooks.route();
}

export function link(href, text, attributes = {}) {
  return h("a", { href, onclick: navigate, ...attributes }, text);
}

export function childName(child) {
  return `${child.preferred_name || child.given_name} ${child.family_name}`;
}

function header() {
  return h("header", { className: "app-header" },
    link("/tablet", "fieldapp", { className: "brand" }),
    h("nav", { "aria-label": "Main" }, h("ul", {}, h("li", {}, link("/tablet", "My caseload")))),
    h("div", { className: "who" }, h("span", {}, state.user.name),
      h("button", { type: "button", className: "button-secondary", onclick: () => hooks.signOut() }, "Sign out")));
}

function statusBar() {
  return h("div", { className: "sync-bar" },
    h("p", { role: "status", id: "sync-status" }, ""),
    h("p", { id: "sync-freshness", className: "muted" }, ""),
    h("progress", { id: "sync-progress", max: "100", value: "0", hidden: true, "aria-label": "Sync progress" }),
    h("button", { type: "button", className: "button-secondary", onclick: () => hooks.syncNow() }, "Sync now"),
    h("div", { id: "sign-in-again", className: "flash flash-error", hidden: true },
      h("p", {}, "Your session on the server has ended, so nothing can sync. Your work is safe on this tablet."),
      h("button", { type: "button", onclick: () => hooks.signInAgain() }, "Sign in again")),
    h("p", { id: "clock-warning", className: "flash flash-error", hidden: true }, ""),
    h("p", { id: "storage-warning", className: "flash flash-error", hidden: true }, ""));
}

export async function refreshStatus(message) {
  if (!document.getElementById("sync-status") || !state.store) return;
  const store = state.store;
  let facts;
  try {
    const waiting = await store.outboxCount();
    facts = {
      waiting,
      rejected: await store.count("rejected"),
      conflicts: await store.count("conflicts"),
      lastSync: await store.getMeta("lastSyncAt"),
      wrongClock: clockWarning(await store.getMeta("clock"), deviceToday()),
      persisted: navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : true,
    };
  } catch (error) {
    if (state.store !== store) return; // locked or signed out meanwhile: nothing to show
    throw error;
  }
  // The screen may have changed while the facts were read (the idle lock): look again.
  const status = document.getElementById("sync-status");
  if (!status || state.store !== store) return;
  const { waiting, rejected, conflicts, lastSync, wrongClock, persisted } = facts;
  let text = message || (state.syncing ? "Syncing…" : waiting ? `${waiting} waiting to sync` : "All changes synced");
  if (rejected) text += ` · ${rejected} refused by the server`;
  if (conflicts) text += ` · ${conflicts} in conflict`;
  status.textContent = text;

  document.getElementById("sign-in-again").hidden = !state.signInRequired;

  // Where the caseload stands: offline or not, and when it last synced (shown only; the device
  // clock never orders anything).
  const when = lastSync ? dateTime(lastSync) : null;
  document.getElementById("sync-freshness").textContent = [
    navigator.onLine ? null : "No connection: your work is kept on this tablet and syncs when you are back in range.",
    when ? `Last synced ${when}.` : "Not synced yet.",
  ].filter(Boolean).join(" ");

  const clock = document.getElementById("clock-warning");
  clock.hidden = !wrongClock;
  if (wrongClock) {
    clock.textContent = `This tablet's date is ${dmy(wrongClock.today)}, but the server's date was ${dmy(wrongClock.serverDate)} at the last sync. `
      + "Check the tablet's date setting: contact dates and due dates on the tablet use it.";
  }

  const warning = document.getElementById("storage-warning");
  warning.hidden = persisted || !waiting;
  warning.textContent = "This browser may clear offline data when space runs low, and work is waiting to sync. Sync before closing the browser.";
}

// Screens are async (they decrypt records), so two can be under way at once: a sync's redraw
// and the practitioner's tap. Only the newest route may draw, or a slow redraw started before
// a tap would replace the screen the tap opened. A screen takes its `show` before its first
// await; route() starts a new one.
let routeCount = 0;

export function newRoute() {
  routeCount += 1;
}

export function pageFor() {
  const mine = routeCount;
  return (...content) => {
    if (mine === routeCount) page(...content);
  };
}

// A new screen: its title names it, and after a move (not a redraw by sync) focus goes to its
// heading, so a screen reader says where the practitioner now is.
export function page(...content) {
  render(header(), h("main", { id: "main" }, statusBar(), ...content));
  const heading = document.querySelector("main h1");
  if (heading) {
    document.title = `${heading.textContent} · fieldapp`;
    heading.setAttribute("tabindex", "-1");
    if (state.moved) heading.focus({ preventScroll: true });
  }
  state.moved = false;
  refreshStatus();
}

export function alertBox(message) {
  const main = document.getElementById("main");
  main.prepend(h("p", { className: "flash flash-error", role: "alert" }, message));
}

// Field-named problems as a list that takes focus, so a screen reader announces it.
export function errorSummary(container, problems) {
  container.replaceChildren(...(problems.length ? [h("h2", {}, "There is a problem"),
    h("ul", {}, problems.map((problem) => h("li", { className: "field-error" }, problem)))] : []));
  container.hidden = !problems.length;
  if (problems.length) container.focus();
}

// Keeps a form's typing: each change schedules one write of the form as it is then, writes run
// one after another (an older write never lands last), and a failed write is reported and
// does not stop the next. flush() waits for the writes scheduled so far.
export function keeper(write) {
  let chain = Promise.resolve();
  let scheduled = false;
  return {
    keep() {
      if (scheduled) return;
      scheduled = true;
      chain = chain.then(() => {
        scheduled = false;
        return write();
      }).catch((error) => {
        alertBox(`Your typing could not be saved on this tablet (${error?.message || error}). Keep this page open and try again; if it goes on, sync now.`);
      });
      const written = chain;
      unwritten.add(written);
      written.finally(() => unwritten.delete(written));
    },
    flush: () => chain,
  };
}

// Every form's writes not yet landed: the idle lock waits for them before it closes the store.
const unwritten = new Set();

export function typingSettled() {
  return Promise.all([...unwritten]);
}

// A form's submit handler that runs once at a time: a double tap must not queue twice.
export function submitOnce(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      await handler(event);
    } finally {
      delete form.dataset.busy;
      buttons.forEach((button) => { button.disabled = false; });
    }
  });
}
