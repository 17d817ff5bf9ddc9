// The record fields, labels, limits and option lists are the server's own definition
// (fieldapp/services/record_fields.py), served as /tablet/fields.js and cached with the shell:
// re-exported here under the names the tablet has always imported, never copied.
import { FIELD_LABELS, FIELDS } from "/tablet/fields.js";

export { FIELD_LABELS, FIELDS, FREE_TEXT, LOCATION, MADE_BY, MODE, PARTICIPANT_ROLE, VIEWS_METHOD } from "/tablet/fields.js";

export function labelOf(choices, value) {
  const found = choices.find(([v]) => v === value);
  return found ? found[1] : value;
}

// Gives each control of a record (keyed by wire name) the limits of its field: maxlength for
// text, min and max for a whole number. Returns the controls.
export function limited(record, controls) {
  for (const [name, control] of Object.entries(controls)) {
    const spec = FIELDS[record][name];
    if (!spec) continue;
    if (spec.maxLength !== undefined) control.setAttribute("maxlength", String(spec.maxLength));
    if (spec.min !== undefined) control.setAttribute("min", String(spec.min));
    if (spec.max !== undefined) control.setAttribute("max", String(spec.max));
  }
  return controls;
}

export function fieldLabel(name) {
  const row = /^(participants|actions)-(\d+)-(\w+)$/.exec(name);
  if (row) return `${row[1] === "participants" ? "Participant" : "Action"} ${Number(row[2]) + 1} ${row[3].replace(/_/g, " ")}`;
  return FIELD_LABELS[name] || name;
}
