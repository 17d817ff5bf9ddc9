// The sign-in page (/login), for everyone. A practitioner (or a team leader on their way to
// record a contact) goes straight into the offline app: the password typed here signs in on
// the server and also unlocks the app's encrypted copy on this device, so it is typed once.
// Everyone else continues to their pages. Without JavaScript, or outside a secure context (where
// the app cannot run), the form posts to the server as it always did.

import { sendPendingLogout } from "./tablet/device.js";
import { opensInApp } from "./tablet/routes.js";

const GENERIC_ERROR = "Email or password is incorrect, or the account is locked. Try again later.";
const form = document.querySelector("form[data-sign-in]");

function showError(message) {
  let alert = document.getElementById("sign-in-error");
  if (!alert) {
    alert = document.createElement("p");
    alert.id = "sign-in-error";
    alert.className = "flash flash-error";
    alert.setAttribute("role", "alert");
    form.before(alert);
  }
  alert.textContent = message;
}

async function signIn(event) {
  const email = form.elements.email.value.trim().toLowerCase();
  const password = form.elements.password.value;
  if (!email || !password) return; // the server names the empty field
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  let response;
  try {
    await sendPendingLogout(); // a sign-out the server has not heard yet goes first, never after
    response = await fetch("/api/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }),
    });
  } catch {
    button.disabled = false;
    return showError("The server could not be reached. Check the connection and try again.");
  }
  if (!response.ok) {
    button.disabled = false;
    form.elements.password.value = "";
    return showError(response.status === 401 ? GENERIC_ERROR : `Signing in failed (the server answered ${response.status}). Try again.`);
  }
  const { user, csrf_token: csrfToken } = await response.json();
  form.reset(); // the password stays nowhere on the page, nor in a page the back button restores
  const next = form.dataset.next || "/"; // made safe by the server: a path on this site
  if (!opensInApp(new URL(next, location.origin).pathname, user.role)) {
    location.assign(next);
    return;
  }
  history.replaceState({}, "", next);
  const app = document.createElement("div");
  app.id = "tablet";
  app.setAttribute("data-handoff", "");
  document.body.replaceChildren(app);
  const { enterApp } = await import("./tablet/main.js");
  await enterApp(email, password, { user, csrfToken });
}

// A sign-in page restored from the back/forward cache shows empty fields.
window.addEventListener("pageshow", (event) => { if (event.persisted && form) form.reset(); });

if (form && window.isSecureContext && globalThis.crypto && crypto.subtle) {
  form.addEventListener("submit", signIn);
  sendPendingLogout(); // at the next start, as in the app
}
