// The offline app's addresses, said once: main.js routes by them, and the sign-in page asks
// them which addresses open the app for whom. The server answers the same addresses with the
// app's shell (fieldapp/caseload/views.py, fieldapp/contacts/views.py). No side effects here,
// so the sign-in page can import this module without starting the app.

const ID = "([0-9a-f-]{36})";
const ROUTES = [
  { name: "contactForm", pattern: new RegExp(`^/children/${ID}/contacts/new$`), recording: true },
  { name: "returnVisitForm", pattern: new RegExp(`^/children/${ID}/return-visits/new$`), recording: true },
  { name: "child", pattern: new RegExp(`^/children/${ID}$`) },
  { name: "contact", pattern: new RegExp(`^/contacts/${ID}$`) },
];

// The screen an address shows: {name, id}; the caseload for "/" and any other address.
export function appRoute(pathname) {
  const path = pathname.replace(/^\/tablet(?=\/|$)/, "") || "/";
  for (const { name, pattern } of ROUTES) {
    const match = path.match(pattern);
    if (match) return { name, id: match[1] };
  }
  return { name: "caseload", id: null };
}

// Whether signing in on the way to an address opens the app for a role. A practitioner's own
// addresses all do (one app, online or offline), and /tablet/...; for a team leader, who
// records contacts only when covering a caseload, /tablet/... and the recording forms. Nobody
// else is taken into the app (and so given a copy of case data on the device) by a link.
export function opensInApp(pathname, role) {
  const app = pathname === "/tablet" || pathname.startsWith("/tablet/");
  const route = ROUTES.find(({ pattern }) => pattern.test(pathname));
  if (role === "practitioner") return app || pathname === "/" || Boolean(route);
  if (role === "team_leader") return app || Boolean(route && route.recording);
  return false;
}
