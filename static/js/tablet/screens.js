// The tablet's read screens (caseload, child, submitted contact) and the two small forms that
// add to a record: an addendum to a submitted contact and an NT return visit. All case data is
// set as text (dom.js h), never parsed as HTML.

import { fieldLabel, FREE_TEXT, labelOf, limited, LOCATION, MADE_BY, MODE, PARTICIPANT_ROLE, VIEWS_METHOD } from "./choices.js";
import { assessChild, assessFacts, childFacts } from "./compliance.js";
import { contactMutations } from "./contact_form.js";
import { deviceToday } from "./clock.js";
import { dmy, field, h } from "./dom.js";
import { ABORIGINAL_STATUS, GOAL_LABELS, RESIDENCE, timeframeText, twoYearDeadline, twoYearStatus, YOUTH_JUSTICE_STATUS, YOUTH_JUSTICE_TEAM } from "./permanency.js";
import { childName, errorSummary, go, hooks, keeper, link, pageFor, state, submitOnce } from "./shell.js";
import { historySection } from "./attention.js";

const STATUS_TEXT = { overdue: "Overdue", due_soon: "Due soon", on_track: "On track" };
const VISIT_TEXT = { met: "Seen during the visit", pending: "Not seen yet", missed: "Missed: not seen during the visit" };
const INTERSTATE = new Set(["interstate", "boarding_interstate"]);
const TIMEFRAME_BADGE = { exceeded: "badge-overdue", approaching: "badge-due-soon", within: "badge-on-track" };

async function recordsOf(childId) {
  const records = await state.store.recordsOfChild(childId);
  const of = (type) => records.filter((r) => r.type === type);
  return { contacts: of("contact"), visits: of("return_visit"), addenda: of("addendum") };
}

// R1 and R2 on the tablet, from the records it holds, unsynced ones included.
async function assess(child) {
  const { contacts, visits } = await recordsOf(child.id);
  const result = assessChild(child, contacts.map((r) => r.data), visits.map((r) => r.data), deviceToday());
  return { ...result, unsynced: contacts.some((r) => r.pending) };
}

// What the caseload shows of a child, kept sealed apart from its records (store.js summaries)
// so the caseload opens without decrypting every contact: the name, the facts R1 and R2 are
// assessed from on any day (compliance.js childFacts) and whether a contact waits to sync.
const SUMMARY = { types: ["child", "contact", "return_visit"], version: 1 };

function summarize(records) {
  const of = (type) => records.filter((r) => r.type === type);
  const child = of("child")[0];
  const { preferred_name, given_name, family_name, care_start_date, care_end_date } = child.data;
  return {
    id: child.id, name: { preferred_name, given_name, family_name },
    facts: childFacts({ care_start_date, care_end_date }, of("contact").map((r) => r.data), of("return_visit").map((r) => r.data)),
    unsynced: of("contact").some((r) => r.pending),
  };
}

function statusBadge(result) {
  if (!result.inCare) return "Care ended";
  const text = result.status === "overdue" ? `Overdue by ${result.daysOverdue} day${result.daysOverdue === 1 ? "" : "s"}` : STATUS_TEXT[result.status];
  return h("span", { className: `badge badge-${result.status.replace("_", "-")}` }, text);
}

function attentionPanel(items) {
  if (!items.length) return null;
  return h("section", { className: "panel", "aria-labelledby": "attention" },
    h("h2", { id: "attention" }, "Needs your attention"),
    h("ul", { className: "record-list" }, items.map((item, index) => h("li", {},
      item.store === "orphan" ? orphanItem(item.record) : [
      h("strong", {}, item.store === "rejected" ? "Refused by the server" : "Conflict"), ": ",
      Object.entries(item.result.errors || {}).map(([name, messages]) => `${fieldLabel(name)}: ${messages.join(" ")}`).join("; "),
      whichRecord(item),
      ...keptTexts(item.mutation, Object.keys(item.result.errors || {})),
      ...serverTexts(item),
      ...conflictChoices(item),
      item.store === "rejected" ? discardRefused(item, index) : h("button", { type: "button", className: "button-secondary", "aria-label": `Dismiss conflict ${index + 1}`,
        onclick: async () => { await state.store.dismiss(item.store, item.key); caseloadScreen(); } }, "Dismiss")]))));
}

// Which record an item is about, said the way the rest of the app says it: the child, the
// contact's date, and a link that opens it (a refused contact opens in the form to correct).
function whichRecord(item) {
  const about = item.about;
  if (!about) return null;
  const what = about.type === "contact" ? `Contact for ${about.childName} of ${dmy(about.date)}`
    : about.type === "addendum" ? `Addendum for ${about.childName}` : `Return visit for ${about.childName}`;
  const opens = item.store === "rejected" ? "Open it to correct" : "Open it";
  return h("p", {}, h("strong", {}, what), " · ",
    about.href ? link(about.href, opens, { "aria-label": `${opens}: ${what}` }) : null);
}

// A refused change goes only by the practitioner's choice, once they have read what goes with it.
function discardRefused(item, index) {
  const about = item.about || {};
  const op = item.mutation ? item.mutation.op : null;
  const question = about.type !== "contact" ? "Discard this refused change? The words typed in it will be deleted from this tablet."
    : op === "submit" ? `Discard the refused submission of the contact for ${about.childName} of ${dmy(about.date)}? The draft stays on this tablet as it is, not submitted.`
      : op === "update" ? `Discard this change to the contact for ${about.childName} of ${dmy(about.date)}? The words typed in it will be deleted from this tablet; the contact stays as the server holds it.`
        : `Discard this contact for ${about.childName} of ${dmy(about.date)}? The words typed in it will be deleted from this tablet.`;
  const yes = h("button", { type: "button", className: "button-danger", onclick: async () => {
    yes.disabled = true;
    await state.store.discardRefused(item.key, about.neverAccepted ? [item.mutation.record_type, item.mutation.record_id] : null);
    await caseloadScreen();
  } }, "Yes, discard");
  const box = h("div", { hidden: true, role: "group", "aria-label": "Confirm discard" },
    h("p", { tabindex: "-1" }, question), yes, " ",
    h("button", { type: "button", className: "button-secondary", onclick: () => { box.hidden = true; start.hidden = false; start.focus(); } }, "Keep it"));
  const start = h("button", { type: "button", className: "button-secondary", "aria-label": `Discard refused change ${index + 1}`, onclick: () => {
    box.hidden = false;
    start.hidden = true;
    box.querySelector("p").focus();
  } }, "Discard");
  return h("div", {}, start, box);
}

// The words the practitioner sent, shown so nothing typed is lost from sight: the free-text
// fields, and what was written for each participant and action.
function keptTexts(mutation, disputed = []) {
  if (!mutation || !mutation.data) return [];
  const sent = (name) => {
    const value = mutation.data[name];
    return value && typeof value === "object" && !Array.isArray(value) && "new" in value ? value.new : value;
  };
  const texts = [];
  for (const name of FREE_TEXT) {
    const text = sent(name);
    if (typeof text === "string" && text.trim()) texts.push(h("p", { className: "text" }, `${fieldLabel(name)} as recorded: ${text}`));
  }
  for (const name of disputed) {
    const value = sent(name);
    if (FREE_TEXT.includes(name) || name.endsWith("_id") || value === undefined || Array.isArray(value)) continue;
    texts.push(h("p", { className: "text" }, `${fieldLabel(name)} as recorded: ${value === null ? "(empty)" : typeof value === "object" ? JSON.stringify(value) : value}`));
  }
  const rows = [["participants", "Participant", ["name", "views_and_wishes", "feedback", "concerns"]], ["actions", "Action", ["description", "responsible"]]];
  for (const [name, title, keys] of rows) {
    const list = sent(name);
    if (!Array.isArray(list)) continue;
    list.forEach((row, index) => {
      const parts = keys.map((key) => row && row[key]).filter((text) => typeof text === "string" && text.trim());
      if (parts.length) texts.push(h("p", { className: "text" }, `${title} ${index + 1} as recorded: ${parts.join(" · ")}`));
    });
  }
  return texts;
}

// Work for a child who left this caseload since it was typed. Never dropped: a contact goes to
// the server (kept if the practitioner held the child on its date, else to the team leader's
// review); an unfinished addendum or return visit is deleted only by choice.
function orphanItem(record) {
  const texts = FREE_TEXT.filter((name) => typeof record.data[name] === "string" && record.data[name].trim())
    .map((name) => h("p", { className: "text" }, `${fieldLabel(name)}: ${record.data[name]}`));
  const send = record.type === "contact" ? h("button", { type: "button", onclick: async (event) => {
    event.currentTarget.disabled = true; // a double tap sends once
    const base = await state.store.base("contact", record.id);
    await state.store.queue(contactMutations(record.id, base, record.data, false), { type: "contact", id: record.id, childId: record.childId, data: record.data });
    await caseloadScreen();
    hooks.syncNow();
  } }, "Send to the server") : null;
  const remove = h("button", { type: "button", className: "button-secondary", onclick: async () => {
    await state.store.removeLocal(record.type, record.id);
    caseloadScreen();
  } }, "Delete");
  return [h("strong", {}, "For a child no longer on your caseload"),
    `: ${record.type === "contact" ? `a draft contact of ${dmy(record.data.contact_date)}` : "an unfinished form"}, not yet sent.`,
    ...texts, record.pending ? h("p", { className: "muted" }, "Waiting to sync.") : h("p", {}, send, " ", remove)];
}

// For a conflict, the server's text beside the tablet's, so both are in view.
function serverTexts(item) {
  if (!item.server) return [];
  const shown = (value) => (value === null || value === undefined || value === "" ? "(empty)"
    : typeof value === "object" ? JSON.stringify(value) : String(value));
  return Object.keys(item.result.errors || {}).filter((name) => name in item.server)
    .map((name) => h("p", { className: "text" }, `${fieldLabel(name)} on the server now: ${shown(item.server[name])}`));
}

// The practitioner decides a conflict on their own draft: their words, the server's, or a text
// merged from both. Each is an ordinary update (SPEC §4) whose `old` is the server's value (or
// whose `new` is it), which the server merges and which closes the conflict there. The tablet
// keeps what was decided, with both texts, in the contact's history.
function conflictChoices(item) {
  const mutation = item.mutation;
  if (item.store !== "conflicts" || !item.server || !mutation || mutation.op !== "update") return [];
  if (item.server.status !== "draft" || item.server.author_id !== state.user.id) return [];
  const fields = Object.keys(item.result.errors || {}).filter((name) => mutation.data[name] && "new" in mutation.data[name]);
  if (!fields.length) return [];
  const mine = (name) => mutation.data[name].new;
  const theirs = (name) => item.server[name] ?? null;
  const decide = async (event, choice, merged = {}) => {
    event.currentTarget.disabled = true; // a double tap decides once
    const chosen = Object.fromEntries(fields.map((name) => [name, choice === "mine" ? mine(name) : choice === "server" ? theirs(name) : merged[name]]));
    const data = Object.fromEntries(fields.map((name) => [name, choice === "server" ? { old: mine(name), new: theirs(name) } : { old: theirs(name), new: chosen[name] }]));
    const change = { mutation_id: crypto.randomUUID(), op: "update", record_type: "contact", record_id: mutation.record_id, base_version: null, data };
    const local = await state.store.record("contact", mutation.record_id);
    const record = local && !local.edited
      ? { type: "contact", id: local.id, childId: local.childId, data: { ...local.data, ...chosen, status: item.server.status } }
      : null;
    const at = new Date().toISOString();
    const entries = fields.map((name) => ({ field: name, choice, mine: mine(name), server: theirs(name), result: chosen[name], by: state.user.name, at }));
    await state.store.queue([change], record, { dismiss: [[item.store, item.key]], history: { recordId: mutation.record_id, entries } });
    await caseloadScreen();
    hooks.syncNow();
  };
  return [h("button", { type: "button", onclick: (event) => decide(event, "mine") }, "Use my words"), " ",
    h("button", { type: "button", className: "button-secondary", onclick: (event) => decide(event, "server") }, "Keep the server's text"), " ",
    ...mergeChoice(fields, mine, theirs, decide)];
}

// The third way: one text per field, started from both (the tablet's first, then the
// server's, each under a heading line), edited by the practitioner and sent as the new text.
function mergeChoice(fields, mine, theirs, decide) {
  const texts = (value) => value === null || typeof value === "string";
  if (!fields.every((name) => FREE_TEXT.includes(name) && texts(mine(name)) && texts(theirs(name)))) return [];
  const areas = Object.fromEntries(fields.map((name) => {
    const area = h("textarea", { rows: "8" });
    area.value = `--- My words ---\n${mine(name) || ""}\n\n--- The server's text ---\n${theirs(name) || ""}`;
    return [name, area];
  }));
  const problem = h("p", { className: "field-error", role: "alert", hidden: true }, "");
  const send = h("button", { type: "button", onclick: (event) => {
    const merged = Object.fromEntries(fields.map((name) => [name, areas[name].value.trim() || null]));
    if (fields.some((name) => merged[name] === null)) {
      problem.textContent = "The merged text is empty: write the text to keep, or choose one of the two texts.";
      problem.hidden = false;
      return;
    }
    decide(event, "merged", merged);
  } }, "Send the merged text");
  const editor = h("div", { hidden: true, role: "group", "aria-label": "Merge the texts" },
    fields.map((name) => field(`Merged text: ${fieldLabel(name)}`, areas[name],
      "Both texts are below: yours first, then the server's. Edit them into one; what you send replaces the server's text, and both texts stay in the contact's history.")),
    problem, send, " ",
    h("button", { type: "button", className: "button-secondary", onclick: () => { editor.hidden = true; open.hidden = false; open.focus(); } }, "Cancel"));
  const open = h("button", { type: "button", className: "button-secondary", onclick: () => {
    editor.hidden = false;
    open.hidden = true;
    areas[fields[0]].focus();
  } }, "Merge the texts");
  return [open, " ", editor];
}

// Which child and contact an item is about: from the tablet's copy, the server's, or the words sent.
async function aboutRecord(item) {
  const mutation = item.mutation;
  if (!mutation) return null;
  const store = state.store;
  const local = await store.record(mutation.record_type, mutation.record_id);
  const server = item.server || await store.serverRecord(mutation.record_type, mutation.record_id);
  const sent = (name) => {
    const value = mutation.data && mutation.data[name];
    return value && typeof value === "object" && "new" in value ? value.new : value;
  };
  const childId = (local && local.childId) || (server && server.child_id) || sent("child_id");
  const child = childId ? await store.record("child", childId) : null;
  const type = mutation.record_type;
  return {
    type,
    childName: child ? childName(child.data) : "a child no longer on this tablet",
    date: (local && local.data.contact_date) || (server && server.contact_date) || sent("contact_date"),
    href: type === "contact" && local ? `/tablet/contacts/${mutation.record_id}` : child ? `/tablet/children/${child.id}` : null,
    neverAccepted: mutation.op === "create" && !server,
  };
}

async function attentionItems() {
  const items = await state.store.attention();
  for (const item of items) {
    if (item.store === "conflicts" && item.mutation) item.server = await state.store.serverRecord(item.mutation.record_type, item.mutation.record_id);
    item.about = await aboutRecord(item);
  }
  for (const orphan of await state.store.orphans()) items.push({ store: "orphan", key: [orphan.type, orphan.id], record: orphan, result: {} });
  return items;
}

export async function caseloadScreen() {
  const show = pageFor();
  const today = deviceToday();
  const [summaries, attention] = await Promise.all([state.store.summaries(summarize, SUMMARY), attentionItems()]);
  const rows = summaries.map(({ id, name, facts, unsynced }) => ({ child: { id, ...name }, result: { ...assessFacts(facts, today), unsynced } }));
  rows.sort((a, b) => (a.result.dueDate || "9999").localeCompare(b.result.dueDate || "9999"));
  show(h("h1", {}, "My caseload"), attentionPanel(attention),
    rows.length ? h("table", { className: "caseload" },
      h("thead", {}, h("tr", {}, ["Child", "Last face-to-face contact", "Due", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map(({ child, result }) => h("tr", {},
        h("td", { "data-label": "Child" }, link(`/tablet/children/${child.id}`, childName(child))),
        h("td", { "data-label": "Last face-to-face contact" }, dmy(result.lastContactDate), result.unsynced ? h("span", { className: "muted" }, " (includes unsynced)") : null),
        h("td", { "data-label": "Due" }, dmy(result.dueDate)),
        h("td", { "data-label": "Status" }, statusBadge(result))))))
      : await emptyCaseload(),
    await tabletName());
}

// The tablet's name for the admin's Devices page (revoking the right one), sent at the next sync.
async function tabletName() {
  const name = h("input", { maxLength: 200, value: (await state.store.getMeta("deviceName")) || "" });
  return h("form", { className: "tablet-name", onsubmit: async (event) => {
    event.preventDefault();
    await state.store.setMeta({ deviceName: name.value.trim() });
    hooks.syncNow();
  } }, field("Tablet name", name, "So your administrator can tell your tablets apart, for example \"Jo's iPad\"."),
  h("button", { type: "submit", className: "button-secondary" }, "Save tablet name"));
}

// An empty caseload says why, in words: a role that records no contacts is sent to its own
// pages; a practitioner who has synced has no children allocated yet.
async function emptyCaseload() {
  const role = state.user && state.user.role;
  if (role === "coordinator") {
    return h("div", {},
      h("p", {}, "This app is for recording contacts with children. Permanency coordinators "
        + "work on the online pages: Permanency reviews, the permanency data set and cohort reviews."),
      h("p", {}, h("a", { href: "/permanency", className: "button" }, "Open Permanency reviews")));
  }
  if (role === "admin") {
    return h("div", {},
      h("p", {}, "This app is for recording contacts with children. Administrators manage "
        + "users, teams, devices and the audit log on the online pages."),
      h("p", {}, h("a", { href: "/admin/users", className: "button" }, "Open the admin pages")));
  }
  if (await state.store.getMeta("lastSyncAt")) {
    return h("p", {}, "No children are allocated to you. Your team leader allocates children; "
      + "they arrive here at the next sync.");
  }
  return h("p", {}, "No children on this tablet yet. Sync with a connection to fetch your caseload.");
}

export async function childScreen(childId) {
  const show = pageFor();
  const record = await state.store.record("child", childId);
  if (!record) return caseloadScreen();
  const child = record.data;
  const { contacts, visits } = await recordsOf(childId);
  contacts.sort((a, b) => (b.data.contact_date || "").localeCompare(a.data.contact_date || ""));
  const result = await assess(child);
  const interstate = INTERSTATE.has(child.residence);
  // assessChild reports visit statuses in arrival order; list the visits the same way.
  const orderedVisits = visits.map((v) => v.data).sort((x, y) => x.arrival_date.localeCompare(y.arrival_date) || x.departure_date.localeCompare(y.departure_date));
  show(h("p", { className: "breadcrumb" }, link("/tablet", "Back to caseload")),
    h("h1", {}, childName(child)),
    h("dl", { className: "facts" },
      fact("Date of birth", dmy(child.date_of_birth)),
      fact("Aboriginal and Torres Strait Islander status", ABORIGINAL_STATUS[child.aboriginal_status] || child.aboriginal_status || "—"),
      fact("Residence", RESIDENCE[child.residence] || child.residence || "—"),
      fact("Last face-to-face contact", dmy(result.lastContactDate)),
      fact("Next due", dmy(result.dueDate), " ", statusBadge(result))),
    h("p", {}, link(`/tablet/children/${childId}/contacts/new`, "Record contact", { className: "button" })),
    permanencySection(child),
    youthJusticeSection(child),
    h("h2", {}, "Contacts"),
    contacts.length ? h("ul", { className: "record-list" }, contacts.map((c) => h("li", {},
      link(`/tablet/contacts/${c.id}`, `${dmy(c.data.contact_date)} · ${labelOf(MODE, c.data.mode)}`),
      " ", h("span", { className: "badge" }, c.data.status === "submitted" ? "Submitted" : "Draft"),
      c.edited ? h("span", { className: "muted" }, " · not saved yet") : c.pending ? h("span", { className: "muted" }, " · not yet synced") : null)))
      : h("p", {}, "No contacts recorded yet."),
    interstate ? h("section", {},
      h("h2", {}, "Return visits to the NT"),
      orderedVisits.length ? h("ul", { className: "record-list" }, orderedVisits.map((v, i) => h("li", {},
        `${dmy(v.arrival_date)} to ${dmy(v.departure_date)} · ${VISIT_TEXT[result.visitStatuses[i]] || ""}`,
        v.arrangement_note ? h("p", { className: "text" }, v.arrangement_note) : null)))
        : h("p", {}, "No return visits recorded."),
      h("p", {}, link(`/tablet/children/${childId}/return-visits/new`, "Record return visit", { className: "button button-secondary" }))) : null);
}

function fact(term, ...value) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, ...value));
}

// R3 and R10 offline: the goal in force and its dates as the server computed them at the last
// sync; the two-year timeframe's status against the device date (SPEC §3: the tablet's today).
function permanencySection(child) {
  const goal = child.case_plan_goal;
  const deadline = child.two_year_deadline || twoYearDeadline(goal, child.goal_set_date);
  const timeframe = twoYearStatus(deadline, deviceToday());
  return h("section", { "aria-labelledby": "permanency" },
    h("h2", { id: "permanency" }, "Permanency"),
    goal ? h("dl", { className: "facts" },
      fact("Case plan goal", GOAL_LABELS[goal] || goal, child.permanency_unlikely ? " (permanency unlikely within two years)" : ""),
      fact("Goal set", dmy(child.goal_set_date)),
      fact("Next review due", dmy(child.next_review_due)),
      fact("Two-year timeframe", deadline ? `${dmy(deadline)} · ` : "",
        h("span", { className: `badge ${TIMEFRAME_BADGE[timeframe.status] || ""}` }, timeframeText(timeframe))),
      child.primary_agency ? fact("Primary case responsibility", child.primary_agency) : null)
      : h("p", {}, "No case plan goal recorded."),
    // Online-only actions are server pages (SPEC §5); they say so before the tap.
    h("p", { className: "muted" }, "These open the server's pages and need a connection:"),
    h("ul", { className: "record-list" },
      h("li", {}, h("a", { href: `/children/${child.id}/permanency/request` }, "Request consultation")),
      h("li", {}, h("a", { href: `/children/${child.id}/permanency/youth-justice` },
        "Record Youth Justice collaboration"))));
}

// R12 (`004` § Child Protection and Youth Justice): the collaboration as last synced.
function youthJusticeSection(child) {
  const status = child.youth_justice_status || "none";
  const yj = child.youth_justice;
  if (status === "none" && !yj) return null;
  return h("section", { "aria-labelledby": "youth-justice" },
    h("h2", { id: "youth-justice" }, "Youth Justice"),
    h("dl", { className: "facts" },
      fact("Youth Justice status", YOUTH_JUSTICE_STATUS[yj ? yj.status : status] || status),
      yj ? fact("Lead practitioner", yj.lead_practitioner || "—") : null,
      yj && yj.court_order_conditions ? fact("Court order conditions", h("span", { className: "text" }, yj.court_order_conditions)) : null),
    yj ? [
      h("h3", {}, "Youth Justice officers"),
      (yj.officers || []).length ? h("ul", { className: "record-list" }, yj.officers.map((o) => h("li", {},
        h("strong", {}, o.name || "—"), ` · ${YOUTH_JUSTICE_TEAM[o.team] || o.team || "—"}`, o.contact ? ` · ${o.contact}` : "")))
        : h("p", {}, "No officers recorded."),
      h("h3", {}, "Release and reintegration plan"),
      (yj.plan_actions || []).length ? h("ul", { className: "record-list" }, yj.plan_actions.map((a) => h("li", {},
        h("span", { className: "text" }, a.description || ""), a.due_date ? ` · by ${dmy(a.due_date)}` : "")))
        : h("p", {}, "No plan actions recorded."),
    ] : h("p", {}, "The collaboration has not been recorded yet."));
}

export async function contactScreen(contactId, edit) {
  const show = pageFor();
  const record = await state.store.record("contact", contactId);
  if (!record) return caseloadScreen();
  const c = record.data;
  const submitted = c.status === "submitted";
  // A team leader's tablet also holds their team's drafts; only the author may change one.
  if (!submitted && (!c.author_id || c.author_id === state.user.id)) return edit(c.child_id, record);
  const child = await state.store.record("child", c.child_id);
  const addenda = (await recordsOf(c.child_id)).addenda.filter((a) => a.data.contact_id === contactId);
  const yes = (value) => (value ? "Yes" : "No");
  const shown = {
    contact_date: dmy(c.contact_date), start_time: c.start_time, duration_minutes: c.duration_minutes,
    mode: labelOf(MODE, c.mode), made_by: labelOf(MADE_BY, c.made_by),
    ...(c.made_by === "third_party" ? { third_party_name: c.third_party_name, third_party_role: c.third_party_role } : {}),
    child_seen: yes(c.child_seen), seen_alone: yes(c.seen_alone), location: labelOf(LOCATION, c.location),
    location_detail: c.location_detail, child_views: c.child_views, views_method: labelOf(VIEWS_METHOD, c.views_method),
    views_not_recorded_reason: c.views_not_recorded_reason, language_used: c.language_used,
    interpreter_used: yes(c.interpreter_used), worries: c.worries, working_well: c.working_well,
    needs_to_happen: c.needs_to_happen, safety_scale: c.safety_scale, notes: c.notes,
  };
  const facts = Object.entries(shown).map(([name, value]) => [fieldLabel(name), value]);
  show(h("p", { className: "breadcrumb" }, link(`/tablet/children/${c.child_id}`, child ? `Back to ${childName(child.data)}` : "Back")),
    h("h1", {}, `${submitted ? "Contact" : "Draft contact"} on ${dmy(c.contact_date)}`),
    record.pending ? h("p", { className: "muted" }, "Not yet synced.") : null,
    submitted ? null : h("p", { className: "flash" }, "A draft by another practitioner: only its author can change or submit it."),
    h("dl", { className: "facts wide" }, facts.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", { className: "text" }, value ?? "—")))),
    h("h2", {}, "Who took part"),
    (c.participants || []).length ? h("ul", { className: "record-list" }, c.participants.map((p) => h("li", {},
      h("strong", {}, `${labelOf(PARTICIPANT_ROLE, p.role)}${p.name ? `: ${p.name}` : ""}`), p.took_part_in_decisions ? " · took part in decisions" : "",
      ...[["Views and wishes", p.views_and_wishes], ["Feedback", p.feedback], ["Concerns or worries", p.concerns]]
        .filter(([, v]) => v).map(([label, v]) => h("p", { className: "text" }, `${label}: ${v}`)))))
      : h("p", {}, "No participants recorded."),
    h("h2", {}, "Actions"),
    (c.actions || []).length ? h("ul", { className: "record-list" }, c.actions.map((a) => h("li", {},
      h("p", { className: "text" }, a.description), `Who: ${a.responsible || "—"} · By when: ${dmy(a.due_date)}`)))
      : h("p", {}, "No actions recorded."),
    h("h2", {}, "Addenda"),
    addenda.length ? h("ul", { className: "record-list" }, addenda.map((a) => h("li", {},
      h("strong", {}, a.data.reason), a.pending ? h("span", { className: "muted" }, " · not yet synced") : null,
      h("p", { className: "text" }, a.data.text))))
      : h("p", {}, "No addenda."),
    await historySection(contactId),
    submitted ? await addendumForm(record) : null);
}

// Throws away a half-typed addendum or return visit (a deliberate tap, after the last write).
function discardButton(type, id, typing, after) {
  return h("button", { type: "button", className: "button-secondary", onclick: async () => {
    await typing.flush();
    await state.store.removeLocal(type, id);
    await after();
  } }, "Discard");
}

// R8 (SPEC §3): a submitted contact is corrected by an addendum (reason and text). The text in
// progress is kept on every keystroke, as a contact draft is.
async function addendumForm(contact) {
  const store = state.store;
  const childId = contact.data.child_id;
  const draft = (await store.record("addendum_draft", contact.id))?.data || {};
  const reason = h("input", { type: "text" });
  reason.value = draft.reason || "";
  const text = h("textarea", {});
  limited("addendum", { reason, text }); // the server's limits
  text.value = draft.text || "";
  const errors = h("div", { className: "flash flash-error", role: "alert", tabindex: "-1", hidden: true });
  const typing = keeper(() => (reason.value.trim() || text.value.trim()
    ? store.saveLocal("addendum_draft", contact.id, childId, { reason: reason.value, text: text.value })
    : store.removeLocal("addendum_draft", contact.id))); // emptied: nothing left to keep
  const form = h("form", { className: "narrow", novalidate: true, oninput: () => typing.keep() },
    h("h2", {}, "Add an addendum"), errors,
    h("p", { className: "hint" }, "A submitted contact is never changed; corrections and later information are added here."),
    field("Reason for the addendum", reason), field("Addendum", text),
    h("div", { className: "actions-bar" }, h("button", { type: "submit" }, "Add addendum"),
      discardButton("addendum_draft", contact.id, typing, () => go(`/tablet/contacts/${contact.id}`))));
  submitOnce(form, async () => {
    const problems = [];
    if (!reason.value.trim()) problems.push("Reason for the addendum: give the reason for the addendum.");
    if (!text.value.trim()) problems.push("Addendum: enter the text of the addendum.");
    errorSummary(errors, problems);
    if (problems.length) return;
    await typing.flush();
    const id = crypto.randomUUID();
    const data = { contact_id: contact.id, reason: reason.value.trim(), text: text.value.trim() };
    await store.queue([{ mutation_id: crypto.randomUUID(), op: "create", record_type: "addendum", record_id: id, base_version: null, data }],
      { type: "addendum", id, childId, data: { ...data, child_id: childId, author_id: state.user.id } },
      { remove: [["addendum_draft", contact.id]] });
    await go(`/tablet/contacts/${contact.id}`);
    hooks.syncNow();
  });
  return form;
}

// R2 (`004` § Contact with child): a return visit to the NT of a child living or boarding
// interstate, as arranged in My Care Plan.
export async function returnVisitForm(childId) {
  const show = pageFor();
  const store = state.store;
  const child = await store.record("child", childId);
  if (!child || !INTERSTATE.has(child.data.residence)) return childScreen(childId);
  const draft = (await store.record("return_visit_draft", childId))?.data || {};
  const arrival = h("input", { type: "date", value: draft.arrival_date || "" });
  const departure = h("input", { type: "date", value: draft.departure_date || "" });
  const note = h("textarea", {});
  note.value = draft.arrangement_note || "";
  limited("return_visit", { arrangement_note: note }); // the server's limit
  const errors = h("div", { className: "flash flash-error", role: "alert", tabindex: "-1", hidden: true });
  const values = () => ({ child_id: childId, arrival_date: arrival.value || null, departure_date: departure.value || null, arrangement_note: note.value.trim() || null });
  const typing = keeper(() => {
    const visit = values();
    return visit.arrival_date || visit.departure_date || visit.arrangement_note
      ? store.saveLocal("return_visit_draft", childId, childId, visit)
      : store.removeLocal("return_visit_draft", childId); // emptied: nothing left to keep
  });
  const name = childName(child.data);
  const form = h("form", { className: "narrow", novalidate: true, oninput: () => typing.keep(), onchange: () => typing.keep() },
    errors,
    h("div", { className: "row" }, field("Arrival date", arrival), field("Departure date", departure)),
    field("Arrangement (as documented in My Care Plan)", note),
    h("div", { className: "actions-bar" }, h("button", { type: "submit" }, "Save return visit"),
      discardButton("return_visit_draft", childId, typing, () => go(`/tablet/children/${childId}`))));
  submitOnce(form, async () => {
    const visit = values();
    const problems = [];
    if (!visit.arrival_date) problems.push("Arrival date: enter the arrival date.");
    if (!visit.departure_date) problems.push("Departure date: enter the departure date.");
    if (visit.arrival_date && visit.departure_date && visit.departure_date < visit.arrival_date) problems.push("Departure date: the departure date cannot be before the arrival date.");
    errorSummary(errors, problems);
    if (problems.length) return;
    await typing.flush();
    const id = crypto.randomUUID();
    await store.queue([{ mutation_id: crypto.randomUUID(), op: "create", record_type: "return_visit", record_id: id, base_version: null, data: visit }],
      { type: "return_visit", id, childId, data: visit }, { remove: [["return_visit_draft", childId]] });
    await go(`/tablet/children/${childId}`);
    hooks.syncNow();
  });
  show(h("p", { className: "breadcrumb" }, link(`/tablet/children/${childId}`, `Back to ${name}`)),
    h("h1", {}, "Record return visit ", h("span", { className: "subtitle" }, `for ${name}`)), form);
}
