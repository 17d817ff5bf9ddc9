// The offline tablet app (SPEC §5): sign in once online, then unlock with the password, see the
// caseload with who is due (R1 computed here, unsynced contacts included), record contacts,
// addenda and return visits with every keystroke kept, and sync when the network returns.

import { contactForm } from "./contact_form.js";
import { field, h } from "./dom.js";
import { caseloadScreen, childScreen, contactScreen, returnVisitForm } from "./screens.js";
import { alertBox, hooks, newRoute, page, refreshStatus, render, state, typingSettled } from "./shell.js";
import { appRoute } from "./routes.js";
import { endSession, forgetUser, knownUser, sendPendingLogout, signedIn, wrongPasswords } from "./device.js";
import { TabletStore, WrongPassword } from "./store.js";
import { backoffDelay, DeviceRevoked, ServerError, serverErrorDelay, SignInRequired, SyncClient } from "./sync.js";

const IDLE_LOCK_MS = 15 * 60 * 1000;
const SYNC_INTERVAL_MS = 5 * 60 * 1000;

// ------------------------------------------------------------------ routing

window.addEventListener("popstate", () => { state.moved = true; route(); });

const SCREENS = {
  contactForm: (id) => contactForm(id, null),
  returnVisitForm: (id) => returnVisitForm(id),
  child: (id) => childScreen(id),
  contact: (id) => contactScreen(id, contactForm),
  caseload: () => caseloadScreen(),
};

async function route() {
  if (!state.store) return signInScreen();
  newRoute();
  const { name, id } = appRoute(location.pathname);
  return SCREENS[name](id);
}

// ------------------------------------------------------------------ sign in / unlock

function signInScreen(error) {
  newRoute(); // a screen still being drawn (a sync's redraw) must not appear over the lock
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { className: "narrow", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await enter(email.value.trim().toLowerCase(), password.value);
    } catch (error) {
      // Nothing is deleted on a failure here; say what happened rather than hang.
      signInScreen(notOpened(error));
    }
  } },
  h("h1", {}, "Sign in"),
  error ? h("p", { className: "flash flash-error", role: "alert" }, error) : null,
  field("Email", email), field("Password", password),
  h("button", { type: "submit" }, "Sign in"));
  render(h("main", { id: "main" }, form));
}

function notOpened(error) {
  return `This tablet's data could not be opened (${error?.message || error}). Try again; if it goes on, tell your administrator.`;
}

// The password typed on the sign-in or the lock screen (`locked`: its user): a sign-in on the
// server when online, then the copy here opens.
async function enter(email, password, locked, resume) {
  let answer = {};
  if (navigator.onLine && email) {
    try {
      await sendPendingLogout(); // before this sign-in, never after
      const response = await fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
      if (response.status === 401 && !locked) return signInScreen("Email or password is incorrect, or the account is locked.");
      answer = response.ok ? await response.json() : { refused: response.status === 401 };
    } catch { /* offline after all: unlock locally */ }
  }
  return unlock(email, password, { ...answer, csrfToken: answer.csrf_token }, locked, resume);
}

// Opens this user's copy on the tablet with the password: created on the first sign-in,
// unlocked afterwards (offline too, for a user who signed in here before).
async function unlock(email, password, { user, csrfToken, refused }, locked, resume) {
  if (user?.must_change_password) return location.assign("/account/password"); // opens nothing
  const userId = user ? user.id : locked ? locked.id : await knownUser(email);
  if (!userId) return signInScreen("Sign in once with a connection before working offline.");
  let store;
  try {
    store = await TabletStore.open(userId, password);
  } catch (error) {
    if (!(error instanceof WrongPassword)) throw error;
    // The server took this password, so it changed since the tablet last unlocked.
    if (user) return previousPasswordScreen(email, password, { user, csrfToken });
    return wrongUnlock(userId, locked, resume);
  }
  if (refused && (await new SyncClient(store, {}).revoked())) {
    store.close();
    await TabletStore.wipe(userId);
    await forgetUser(userId);
    return signInScreen("This tablet was revoked; its data has been removed.");
  }
  // The tablet's password, not the server's: the work opens, and syncing waits for a sign-in.
  if (refused) state.signInRequired = true;
  await opened(store, email, { user, csrfToken });
  if (refused) alertBox("The server refused this password (changed elsewhere?). Your work is open; to sync, sign in again.");
  restoreFocus(resume);
}

// Wrong passwords in a row for the copy here, where the server's lockout cannot help: from the
// fifth the screen says what the tenth does, and the tenth removes the copy.
async function wrongUnlock(userId, locked, resume) {
  const count = await wrongPasswords(userId, 1);
  const waiting = count >= 5 ? await TabletStore.waitingCount(userId) : 0;
  const lost = waiting ? `, including ${plural(waiting, "change", "changes")} not yet sent to the server` : "";
  if (count >= 10) {
    await TabletStore.wipe(userId);
    await forgetUser(userId);
    return signInScreen(`Ten wrong passwords in a row: this tablet's copy of your work was removed${lost}. Sign in online to fetch your caseload again.`);
  }
  const error = `That password does not unlock this tablet's data.${count < 5 ? "" : ` ${10 - count} more wrong attempt${count === 9 ? " removes" : "s remove"} this tablet's copy of your work${lost}.`}`;
  return locked ? lockScreen(locked, resume, error) : signInScreen(error);
}

// The password was changed (on the web, or by an admin) while this tablet held data under the
// old one: the old password unlocks it once, and from then on the new one does.
function previousPasswordScreen(email, newPassword, signedIn, error) {
  newRoute();
  const previous = h("input", { type: "password", autocomplete: "off", required: true });
  const form = h("form", { className: "narrow", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await TabletStore.changePassword(signedIn.user.id, previous.value, newPassword);
    } catch (failure) {
      if (failure instanceof WrongPassword) return previousPasswordScreen(email, newPassword, signedIn, "That is not the previous password either. Try again, or ask your administrator.");
      throw failure;
    }
    await opened(await TabletStore.open(signedIn.user.id, newPassword), email, signedIn);
  } },
  h("h1", {}, "Your password has changed"),
  error ? h("p", { className: "flash flash-error", role: "alert" }, error) : null,
  h("p", {}, "The work on this tablet is locked with your previous password. Enter it once; from then on your new password unlocks it."),
  field("Previous password", previous),
  h("div", { className: "actions-bar" }, h("button", { type: "submit" }, "Unlock"),
    h("button", { type: "button", className: "button-secondary", onclick: () => forgottenPasswordScreen(email, newPassword, signedIn) }, "I can't remember it")));
  render(h("main", { id: "main" }, form));
  previous.focus();
}

// The last way out for a tablet nobody can unlock: remove its copy and start again from the
// server. Changes not yet sent would be lost, so the screen says how many first.
async function forgottenPasswordScreen(email, newPassword, signedIn) {
  newRoute();
  const userId = signedIn.user.id;
  const waiting = await TabletStore.waitingCount(userId);
  render(h("main", { id: "main" }, h("div", { className: "narrow" },
    h("h1", {}, "Remove this tablet's copy?"),
    h("p", { className: waiting ? "flash flash-error" : "flash", role: waiting ? "alert" : null },
      waiting ? `This tablet holds ${waiting} change${waiting === 1 ? "" : "s"} not yet sent to the server. Removing this tablet's copy deletes ${waiting === 1 ? "it" : "them"} for good. Ask your team leader before you do this.`
        : "Everything on this tablet has reached the server. Its copy is removed and fetched again."),
    h("div", { className: "actions-bar" },
      h("button", { type: "button", className: waiting ? "button-danger" : null, onclick: async () => {
        await TabletStore.wipe(userId);
        await opened(await TabletStore.open(userId, newPassword), email, signedIn);
      } }, "Remove this tablet's copy"),
      h("button", { type: "button", className: "button-secondary", onclick: () => previousPasswordScreen(email, newPassword, signedIn) }, "Go back")))));
}

async function opened(store, email, { user, csrfToken }) {
  await wrongPasswords(store.userId, 0);
  if (user) {
    user = { ...user, email }; // the lock screen signs in again with it
    await signedIn(email, user.id);
    await store.setSealedMeta("profile", user);
    await store.setMeta({ csrfToken });
    state.signInRequired = false;
  }
  store.onclose = () => {
    if (state.store !== store) return;
    lock();
    signInScreen("The app was updated or signed out in another tab. Sign in again to continue; your work is kept.");
  };
  state.store = store;
  state.user = user || (await store.getSealedMeta("profile"));
  state.csrfToken = csrfToken || (await store.getMeta("csrfToken"));
  if (navigator.storage && navigator.storage.persist) await navigator.storage.persist().catch(() => false);
  touch();
  startTimers();
  if (navigator.onLine && !(await store.getMeta("cursor"))) {
    // Nothing is held yet (a first sign-in here): fetch the caseload before the address asked
    // for is drawn, or a bookmarked child's form would find no child.
    newRoute();
    page(h("h1", { id: "first-sync" }, "Fetching your caseload"),
      h("p", {}, "The children you work with are being copied to this tablet, encrypted. Afterwards the app works without a signal."));
    await syncNow();
    if (document.getElementById("first-sync")) await route(); // the sync did not draw it
    return;
  }
  await route();
  syncNow();
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// Signing out wipes this user's data from the tablet, so it waits until nothing on it exists
// only here: queued changes, typing not yet saved, and what the server refused or disputed.
async function signOut() {
  const store = state.store;
  const waiting = await store.outboxCount();
  const unsaved = await store.unsavedCount();
  const attention = (await store.count("rejected")) + (await store.count("conflicts"));
  const reasons = [];
  if (waiting) reasons.push(`${plural(waiting, "change is", "changes are")} waiting to sync: connect and choose "Sync now".`);
  if (unsaved) reasons.push(`${plural(unsaved, "form has", "forms have")} typing not yet saved: open ${unsaved === 1 ? "it" : "them"} and save or delete.`);
  if (attention) reasons.push(`${plural(attention, "item needs", "items need")} your attention on "My caseload": deal with ${attention === 1 ? "it" : "them"} first.`);
  if (reasons.length) {
    alertBox(`You cannot sign out yet: signing out deletes this tablet's copy of your work. ${reasons.join(" ")}`);
    return;
  }
  const userId = state.user.id;
  await endSession(state.csrfToken);
  lock();
  await TabletStore.wipe(userId);
  await forgetUser(userId);
  signInScreen();
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
  cancelRetry();
}

function startTimers() {
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (Date.now() - state.lastActivity >= IDLE_LOCK_MS) idleLock();
  }, 15000);
}

// The idle lock (SPEC §5): the user is known, so it asks for the password only. A focused
// field is left first, while the store is still open, so its last change is written (leaving
// it afterwards would try to write with the key gone); unlocking redraws the same screen from
// what was kept and puts focus back where it was.
async function idleLock() {
  if (!state.store || state.locking) return;
  state.locking = true;
  clearInterval(state.timer);
  const active = document.activeElement;
  const form = active && active.form;
  const forms = [...document.querySelectorAll("main form")];
  const resume = form && forms.includes(form) ? {
    form: forms.indexOf(form), index: [...form.elements].indexOf(active),
    caret: typeof active.selectionStart === "number" ? active.selectionStart : null,
  } : null;
  try {
    if (active && active !== document.body) active.blur();
    await typingSettled();
  } finally {
    state.locking = false;
  }
  const user = state.user;
  lock();
  lockScreen(user, resume);
  endSession(state.csrfToken); // the server session too: unlocking signs in again
}

function lockScreen(user, resume, error) {
  newRoute();
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { className: "narrow", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await enter(user.email, password.value, user, resume);
    } catch (failure) {
      lockScreen(user, resume, notOpened(failure));
    }
  } },
  h("h1", {}, "Sign in"),
  h("p", { className: "flash flash-error", role: "alert" }, error || "Locked after 15 minutes without use. Enter your password to continue; your work is kept."),
  h("p", {}, `Signed in as ${user.name}.`),
  field("Password", password),
  h("div", { className: "actions-bar" }, h("button", { type: "submit" }, "Sign in"),
    h("button", { type: "button", className: "button-secondary", onclick: () => signInScreen() }, "Sign in as someone else")));
  render(h("main", { id: "main" }, form));
  password.focus();
}

function restoreFocus(resume) {
  if (!resume) return;
  const form = document.querySelectorAll("main form")[resume.form];
  const control = form && form.elements[resume.index];
  if (!control) return;
  control.focus();
  if (resume.caret !== null && typeof control.setSelectionRange === "function") {
    try { control.setSelectionRange(resume.caret, resume.caret); } catch { /* not a text control */ }
  }
}

// The timer and the network coming back start a sync by themselves, but not while the longer
// backoff after a server error runs: that retry comes when it is due. A tap on "Sync now" and
// newly saved work still sync at once.
function autoSync() {
  if (!state.store || (state.retry && state.retry.serverError)) return;
  syncNow();
}

setInterval(autoSync, SYNC_INTERVAL_MS);
window.addEventListener("online", () => sendPendingLogout().finally(autoSync));
window.addEventListener("offline", () => refreshStatus());

// ------------------------------------------------------------------ sync

// One automatic retry is pending at most: a new failure replaces it, and a sync that starts
// for any other reason makes it moot.
function scheduleRetry(delay, { serverError }) {
  cancelRetry();
  const timer = setTimeout(() => {
    state.retry = null;
    syncNow();
  }, delay);
  state.retry = { timer, serverError };
}

function cancelRetry() {
  if (state.retry) clearTimeout(state.retry.timer);
  state.retry = null;
}

// "30 s", "1 min", "10 min": when the next automatic try is, for the status line.
function inWords(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

// The sync's progress bar. Sending is measured (changes sent of those queued). Fetching is not:
// a pull page says only whether more follow, so the bar is indeterminate (no value) with the
// page count as its text, and it reaches the end only when the whole sync has. Looked up at
// each step, since a redraw during a sync replaces it.
function showProgress(step) {
  const progress = document.getElementById("sync-progress");
  if (!progress) return;
  progress.hidden = false;
  if (step.phase === "push") {
    progress.value = step.total ? Math.round((100 * step.done) / step.total) : 0;
    progress.setAttribute("aria-valuetext", `Sending changes: ${step.done} of ${step.total}`);
  } else if (step.phase === "pull") {
    progress.removeAttribute("value");
    progress.setAttribute("aria-valuetext", step.pages ? `Fetching changes: ${plural(step.pages, "page", "pages")} so far` : "Fetching changes");
  } else {
    progress.value = step.phase === "done" ? progress.max : 0;
    progress.removeAttribute("aria-valuetext");
  }
}

function hideProgress() {
  const progress = document.getElementById("sync-progress");
  if (progress) progress.hidden = true;
}

async function syncNow() {
  if (state.syncing) {
    // Work queued while a sync runs is not left for the timer: one more sync follows at once.
    state.syncAgain = true;
    return refreshStatus();
  }
  if (!state.store || state.signInRequired) return refreshStatus();
  if (!navigator.onLine) return refreshStatus(); // no signal: the "online" event starts the next sync
  const store = state.store;
  state.syncing = true;
  cancelRetry();
  showProgress({ phase: "start" });
  await refreshStatus("Syncing…");
  const client = new SyncClient(store, { session: state, onProgress: showProgress });
  try {
    await client.run();
    showProgress({ phase: "done" });
    await store.setMeta({ lastSyncAt: Date.now() });
    state.failures = 0;
    state.serverErrors = 0;
    state.syncing = false;
    // A form being filled in is never redrawn under the practitioner's fingers. The status
    // changes only after the redraw, so "All changes synced" always describes what is shown.
    if (state.store === store && !document.querySelector("form.contact-form, form.narrow")) await route();
    await refreshStatus();
  } catch (error) {
    if (error instanceof DeviceRevoked) {
      state.store = null;
      return signInScreen("This tablet was revoked; its data has been removed.");
    }
    if (error instanceof SignInRequired) {
      state.signInRequired = true;
      return refreshStatus();
    }
    // Nothing is dropped on any of these: the outbox keeps every change until it is answered.
    state.failures += 1;
    if (error instanceof ServerError) {
      // A bug on the server: trying again at once would most likely meet it again.
      state.serverErrors += 1;
      const delay = serverErrorDelay(state.serverErrors);
      scheduleRetry(delay, { serverError: true });
      await refreshStatus(`Sync failed — the server had an error (${error.status}). Will retry in ${inWords(delay)}.`);
    } else {
      scheduleRetry(backoffDelay(state.failures), { serverError: false });
      await refreshStatus("Sync failed — will retry");
    }
  } finally {
    state.syncing = false;
    hideProgress();
  }
  if (state.syncAgain && state.failures === 0) {
    state.syncAgain = false;
    await syncNow();
  }
}

function signInAgain() {
  lock();
  signInScreen("Sign in again to sync. Your work on this tablet is kept.");
}

Object.assign(hooks, { route, syncNow, signOut, signInAgain });
TabletStore.onblocked = () => alertBox("fieldapp is open in another tab or window with an older version. Close it to continue; nothing is lost.");

// The app keeps case notes encrypted with WebCrypto and works offline through a service worker;
// browsers offer both only in a secure context (HTTPS, or localhost). Say so in words instead of
// failing on the first use of crypto.subtle.
function insecureContextScreen() {
  const main = document.getElementById("main");
  main.replaceChildren(
    h("h1", {}, "This app needs a secure connection (HTTPS)"),
    h("p", {}, `You opened fieldapp at ${location.origin}, which is plain HTTP. The app keeps `
      + "case notes encrypted on this tablet and works without a signal, and browsers allow "
      + "both only over HTTPS (or on the computer running the server, as localhost)."),
    h("p", {}, "Open the https:// address of fieldapp instead. If your office has none yet, "
      + "ask your administrator: the server needs a TLS certificate on its reverse proxy "
      + "(see the deployment guide that comes with fieldapp)."),
    h("p", {}, "Nothing has been stored on this tablet."));
  document.title = "fieldapp needs HTTPS";
}

// The sign-in page hands over a practitioner who has just signed in there (static/js/sign_in.js):
// the password typed once signs in on the server and unlocks this tablet's copy.
export async function enterApp(email, password, signedIn) {
  try {
    await unlock(email, password, signedIn);
  } catch (error) {
    signInScreen(notOpened(error));
  }
}

if (!window.isSecureContext || !globalThis.crypto || !crypto.subtle) {
  insecureContextScreen();
} else {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  if (!document.getElementById("tablet").hasAttribute("data-handoff")) {
    signInScreen();
    sendPendingLogout();
  }
}
