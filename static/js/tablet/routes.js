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

// Whether an address opens the app for a role. A practitioner's own addresses all do (one app,
// online or offline); anyone's recording forms do, since contacts are recorded only in the
// app (team leaders covering a caseload); /tablet/... always does.
export function opensInApp(pathname, role) {
  if (pathname === "/tablet" || pathname.startsWith("/tablet/")) return true;
  const route = ROUTES.find(({ pattern }) => pattern.test(pathname));
  if (role === "practitioner") return pathname === "/" || Boolean(route);
  return Boolean(route && route.recording) && role === "team_leader";
}
