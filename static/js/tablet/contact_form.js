// The complete contact form offline (SPEC §4 contact shape, §5 accessible names): the contact,
// the child's views, who took part, Signs of Safety with actions. Every keystroke is written to
// IndexedDB; "Save draft" and "Submit" queue the change for sync.

import { FIELD_LABELS, limited, LOCATION, MADE_BY, MODE, PARTICIPANT_ROLE, VIEWS_METHOD } from "./choices.js";
import { deviceToday } from "./clock.js";
import { checkbox, field, h } from "./dom.js";
import { childName, errorSummary, go, hooks, keeper, link, pageFor, state, submitOnce } from "./shell.js";
import { historySection, markRefused, withRefusedWords } from "./attention.js";

const MAX_ROWS = 30; // as the server (services/contacts.py MAX_PARTICIPANTS, MAX_ACTIONS)
const NOT_SENT = new Set(["status", "child_id", "author_id"]);

function select(options, value) {
  return h("select", {}, options.map(([v, label]) => h("option", { value: v, selected: v === (value ?? "") }, label)));
}

function textInput(value, attributes = {}) {
  const input = h("input", { type: "text", ...attributes });
  input.value = value ?? "";
  return input;
}

function textArea(value) {
  const area = h("textarea", {});
  area.value = value ?? "";
  return area;
}

function tick(value) {
  return h("input", { type: "checkbox", checked: Boolean(value) });
}

function blank(value) {
  return value === null || value === undefined || String(value).trim() === "";
}

function valueOf(control) {
  if (control.type === "checkbox") return control.checked;
  if (control.type === "number") return control.value === "" ? null : Number(control.value);
  return control.value === "" ? null : control.value;
}

// A list of repeated fieldsets ("Participant 1", "Action 2", ...) with add and remove.
function repeatList(title, buildRow, items, onChange) {
  const rows = [];
  const container = h("div", {});
  const addButton = h("button", { type: "button", className: "button-secondary" }, `Add ${title.toLowerCase()}`);

  function renumber() {
    rows.forEach((row, index) => {
      row.legend.textContent = `${title} ${index + 1}`;
      row.remove.setAttribute("aria-label", `Remove ${title.toLowerCase()} ${index + 1}`);
    });
    addButton.disabled = rows.length >= MAX_ROWS;
  }

  function add(item, focus) {
    const controls = buildRow.controls(item);
    const legend = h("legend", {});
    const remove = h("button", { type: "button", className: "button-secondary" }, `Remove ${title.toLowerCase()}`);
    const element = h("fieldset", { className: "repeat" }, legend, buildRow.layout(controls), remove);
    const row = { element, legend, controls, remove };
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      element.remove();
      renumber();
      addButton.focus();
      onChange();
    });
    rows.push(row);
    container.append(element);
    renumber();
    if (focus) Object.values(controls)[0].focus();
  }

  for (const item of items) add(item, false);
  addButton.addEventListener("click", () => { add({}, true); onChange(); });
  return {
    element: h("div", {}, container, addButton),
    values: () => rows.map((row) => Object.fromEntries(Object.entries(row.controls).map(([name, control]) => [name, valueOf(control)]))),
  };
}

const PARTICIPANT = {
  controls: (p) => limited("participant", {
    role: select(PARTICIPANT_ROLE, p.role), name: textInput(p.name),
    took_part_in_decisions: tick(p.took_part_in_decisions), views_and_wishes: textArea(p.views_and_wishes),
    feedback: textArea(p.feedback), concerns: textArea(p.concerns),
  }),
  layout: (c) => [
    h("div", { className: "row" }, field("Role", c.role), field("Name", c.name), checkbox("Took part in decisions", c.took_part_in_decisions)),
    field("Views and wishes", c.views_and_wishes),
    h("div", { className: "row" }, field("Feedback", c.feedback), field("Concerns or worries", c.concerns)),
  ],
};

const ACTION = {
  controls: (a) => limited("action", { description: textArea(a.description), responsible: textInput(a.responsible), due_date: h("input", { type: "date", value: a.due_date || "" }) }),
  layout: (c) => [field("What", c.description), h("div", { className: "row" }, field("Who", c.responsible), field("By when", c.due_date))],
};

// A number field holding something that is not a number reads as empty: say so, by name.
function unreadable(controls) {
  return ["duration_minutes", "safety_scale"].filter((name) => controls[name].validity.badInput)
    .map((name) => `${FIELD_LABELS[name]}: enter a whole number.`);
}

// The rules the server applies (services/contacts.py validate_contact: R1, R5, R6), so the
// tablet refuses early, offline, naming the field. The server still checks everything.
export function check(record, child, submitting, today = deviceToday()) {
  const problems = [];
  if (record.contact_date && record.contact_date > today) problems.push("Date of contact: the date cannot be in the future.");
  if (record.contact_date && record.contact_date < child.care_start_date) problems.push("Date of contact: the date cannot be before the child came into care.");
  const scale = record.safety_scale;
  if (scale !== null && (!Number.isInteger(scale) || scale < 0 || scale > 10)) problems.push("Safety scale: a whole number from 0 to 10.");
  const duration = record.duration_minutes;
  if (duration !== null && (!Number.isInteger(duration) || duration < 1 || duration > 1440)) problems.push("Duration (minutes): a whole number from 1 to 1440.");
  if (record.seen_alone && !record.child_seen) problems.push("Seen alone: a child can only be seen alone if the child was seen.");
  record.participants.forEach((p, i) => { if (!p.role) problems.push(`Participant ${i + 1} role: choose a role.`); });
  record.actions.forEach((a, i) => { if (blank(a.description)) problems.push(`Action ${i + 1}: describe what will happen.`); });
  if (submitting) {
    if (!record.contact_date) problems.push("Date of contact: enter the date of the contact.");
    if (record.made_by === "third_party" && blank(record.third_party_name)) problems.push("Third party name: enter the name of the third party who made the contact.");
    if (record.made_by === "third_party" && blank(record.third_party_role)) problems.push("Third party role: enter the role of the third party who made the contact.");
    if (record.mode === "face_to_face" && blank(record.child_views) && blank(record.views_not_recorded_reason)) {
      problems.push("Reason views were not recorded: record the child's views in their own words, or give the reason they were not recorded.");
    }
    if (!blank(record.child_views) && !record.views_method) problems.push("How the views were gathered: say how the child's views were gathered.");
  }
  return problems;
}

// The mutations that bring the server from `base` (null: it has never seen the contact) to
// `record`: a create, or an update of the changed fields ({old, new}) and then a submit.
export function contactMutations(contactId, base, record, submitting) {
  const mutation = (op, data) => ({ mutation_id: crypto.randomUUID(), op, record_type: "contact", record_id: contactId, base_version: null, data });
  if (!base) {
    const data = Object.fromEntries(Object.entries(record).filter(([name]) => name !== "author_id"));
    return [mutation("create", data)];
  }
  const changed = Object.keys(record).filter((name) => !NOT_SENT.has(name)
    && JSON.stringify(record[name] ?? null) !== JSON.stringify(base[name] ?? null));
  const mutations = changed.length
    ? [mutation("update", Object.fromEntries(changed.map((name) => [name, { old: base[name] ?? null, new: record[name] }])))] : [];
  if (submitting) mutations.push(mutation("submit", {}));
  return mutations;
}

export async function contactForm(childId, existing) {
  const show = pageFor();
  const store = state.store;
  const child = await store.record("child", childId);
  if (!child) return go("/tablet");
  const contactId = existing ? existing.id : crypto.randomUUID();
  const name = childName(child.data);
  // A contact the server refused opens with the words sent and the server's reasons (attention.js).
  const refused = existing ? await store.refusals("contact", contactId) : [];
  const data = existing ? withRefusedWords(existing, refused) : {
    child_id: childId, status: "draft", contact_date: deviceToday(), mode: "face_to_face", made_by: "practitioner",
    child_seen: false, seen_alone: false, interpreter_used: false, author_id: state.user.id,
    participants: [{ role: "child", name, took_part_in_decisions: true }], actions: [],
  };
  const base = existing ? await store.base("contact", contactId) : null;

  // Limits (maxlength, min, max) are the server's, from its definition of the fields.
  const c = limited("contact", {
    contact_date: h("input", { type: "date", value: data.contact_date || "", max: deviceToday() }),
    start_time: h("input", { type: "time", value: data.start_time || "" }),
    duration_minutes: h("input", { type: "number", inputmode: "numeric", value: data.duration_minutes ?? "" }),
    mode: select(MODE, data.mode), made_by: select(MADE_BY, data.made_by),
    third_party_name: textInput(data.third_party_name), third_party_role: textInput(data.third_party_role),
    child_seen: tick(data.child_seen), seen_alone: tick(data.seen_alone),
    location: select(LOCATION, data.location), location_detail: textInput(data.location_detail),
    child_views: textArea(data.child_views), views_method: select(VIEWS_METHOD, data.views_method),
    views_not_recorded_reason: textArea(data.views_not_recorded_reason),
    language_used: textInput(data.language_used), interpreter_used: tick(data.interpreter_used),
    worries: textArea(data.worries), working_well: textArea(data.working_well), needs_to_happen: textArea(data.needs_to_happen),
    safety_scale: h("input", { type: "number", inputmode: "numeric", value: data.safety_scale ?? "" }),
    notes: textArea(data.notes),
  });

  function values() {
    const record = { ...data, child_id: childId };
    for (const [fieldName, control] of Object.entries(c)) record[fieldName] = valueOf(control);
    record.participants = participants.values();
    record.actions = actions.values();
    if (record.made_by !== "third_party") {
      // The server keeps no third party for a contact made by the practitioner; neither does
      // the tablet, or a later edit would send an `old` value the server never had.
      record.third_party_name = null;
      record.third_party_role = null;
    }
    return record;
  }

  // Every keystroke is kept. The address becomes the draft's own, so a reload reopens this
  // draft rather than a blank form.
  const typing = keeper(() => store.saveLocal("contact", contactId, childId, values()));
  function keep() {
    typing.keep();
    if (!existing && location.pathname !== `/tablet/contacts/${contactId}`) history.replaceState({}, "", `/tablet/contacts/${contactId}`);
  }

  // Each control under its label from FIELD_LABELS: the names the SPEC fixes (§5), said once.
  const ask = (name, hint) => field(FIELD_LABELS[name], c[name], hint);
  const tickBox = (name) => checkbox(FIELD_LABELS[name], c[name]);

  const participants = repeatList("Participant", PARTICIPANT, data.participants || [], keep);
  const actions = repeatList("Action", ACTION, data.actions || [], keep);
  const thirdParty = h("div", { className: "row", hidden: data.made_by !== "third_party" },
    ask("third_party_name", "The appropriate third party you arranged to see the child."), ask("third_party_role"));
  c.made_by.addEventListener("change", () => { thirdParty.hidden = c.made_by.value !== "third_party"; });
  const errors = h("div", { className: "flash flash-error", role: "alert", tabindex: "-1", hidden: true });

  const form = h("form", { className: "contact-form", novalidate: true, oninput: keep, onchange: keep },
    errors,
    h("fieldset", {}, h("legend", {}, "The contact"),
      h("div", { className: "row" }, ask("contact_date"), ask("start_time"), ask("duration_minutes")),
      h("div", { className: "row" }, ask("mode"), ask("made_by")),
      thirdParty,
      h("div", { className: "row checks" }, tickBox("child_seen"), tickBox("seen_alone")),
      h("div", { className: "row" }, ask("location"), ask("location_detail"))),
    h("fieldset", {}, h("legend", {}, "The child's views"),
      ask("child_views", "Write what the child said, in their own words."),
      ask("views_method"),
      ask("views_not_recorded_reason", "Only if the views are not recorded: for example an infant, or the child declined."),
      h("div", { className: "row" }, ask("language_used"), tickBox("interpreter_used"))),
    h("fieldset", {}, h("legend", {}, "Who took part"), participants.element),
    h("fieldset", {}, h("legend", {}, "Signs of Safety"),
      ask("worries"), ask("working_well"), ask("needs_to_happen"),
      ask("safety_scale", "0 means the child is not safe; 10 means everyone agrees the child is safe enough to close the case."),
      h("h3", {}, "Actions"), actions.element),
    h("fieldset", {}, h("legend", {}, "Anything else"), ask("notes")),
    h("div", { className: "actions-bar" },
      h("button", { type: "submit", className: "button-secondary", value: "draft" }, "Save draft"),
      h("button", { type: "submit", value: "submit" }, "Submit")),
    h("p", { className: "muted" }, "Once submitted, a contact cannot be edited; corrections are added as addenda."));
  const refusal = markRefused(refused, c, errors);

  submitOnce(form, async (event) => {
    const submitting = event.submitter && event.submitter.value === "submit";
    const record = values();
    const problems = [...unreadable(c), ...check(record, child.data, submitting)];
    errorSummary(errors, problems);
    if (problems.length) return;
    record.status = submitting ? "submitted" : "draft";
    await typing.flush();
    await store.queue(contactMutations(contactId, base, record, submitting), { type: "contact", id: contactId, childId, data: record },
      { dismiss: refused.map((item) => ["rejected", item.key]) }); // the corrected contact answers its refusals
    await go(`/tablet/children/${childId}`);
    hooks.syncNow();
  });

  show(h("p", { className: "breadcrumb" }, link(`/tablet/children/${childId}`, `Back to ${name}`)),
    h("h1", {}, existing ? "Draft contact " : "Record contact ", h("span", { className: "subtitle" }, `with ${name}`)),
    refusal, form, existing ? await historySection(contactId) : null, deleteDraft(contactId, childId, base, typing.flush));
}

// Deleting a draft: forgotten here if the server never heard of it, otherwise a delete is
// queued. Asks once more first; focus moves to the question.
function deleteDraft(contactId, childId, base, pendingWrites) {
  const confirmButton = h("button", { type: "button", className: "button-danger", onclick: async () => {
    confirmButton.disabled = true;
    await pendingWrites(); // a keystroke's write must not land after the removal
    if (base) {
      await state.store.queue([{ mutation_id: crypto.randomUUID(), op: "delete", record_type: "contact", record_id: contactId, base_version: null, data: {} }],
        null, { remove: [["contact", contactId]] });
    } else {
      await state.store.removeLocal("contact", contactId);
    }
    await go(`/tablet/children/${childId}`);
    if (base) hooks.syncNow();
  } }, "Yes, delete this draft");
  const confirmBox = h("div", { hidden: true }, h("p", {}, "Delete this draft? This cannot be undone."), confirmButton);
  const start = h("button", { type: "button", className: "button-danger", onclick: () => {
    confirmBox.hidden = false;
    start.hidden = true;
    confirmButton.focus();
  } }, "Delete draft");
  return h("div", { className: "danger-zone" }, start, confirmBox);
}
