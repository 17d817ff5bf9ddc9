// What needed the practitioner's attention on one record, shown with the record itself: a
// change the server refused (its messages beside the fields they name, the words sent back in
// the fields) and the conflicts decided on this tablet (both texts, the choice, who and when).
// Nothing here is sent: saving the form is what sends the correction.

import { fieldLabel } from "./choices.js";
import { dateTime } from "./clock.js";
import { h } from "./dom.js";
import { errorSummary, state } from "./shell.js";

// The record to show in the form: a refused update's words laid over the server's copy (the
// tablet went back to it when the server refused). Typing since then wins; a refused create
// is already a draft to correct with its words.
export function withRefusedWords(record, refusals) {
  if (record.edited) return record.data;
  const words = { ...record.data };
  for (const { mutation } of refusals) {
    if (mutation.op !== "update") continue;
    for (const [name, change] of Object.entries(mutation.data || {})) {
      if (change && typeof change === "object" && "new" in change) words[name] = change.new;
    }
  }
  return words;
}

// The refusal at the top of the form, and each of the server's messages beside its field (as
// the tablet's own checks are listed in the form's error summary).
export function markRefused(refusals, controls, summary) {
  if (!refusals.length) return null;
  const named = [];
  const general = [];
  for (const { result } of refusals) {
    for (const [name, messages] of Object.entries(result.errors || {})) {
      const control = controls[name];
      if (!control) {
        general.push(...messages);
        continue;
      }
      named.push(`${fieldLabel(name)}: ${messages.join(" ")}`);
      const message = h("p", { className: "field-error", id: `${control.id}-refused` }, `The server refused this: ${messages.join(" ")}`);
      control.before(message);
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), message.id].filter(Boolean).join(" "));
    }
  }
  errorSummary(summary, named);
  return h("div", { className: "flash flash-error refusal" },
    h("p", {}, h("strong", {}, "The server refused this contact when it was last sent"),
      general.length ? `: ${general.join(" ")}` : named.length ? ", for the reasons below." : "."),
    h("p", {}, "Your words are kept here. Correct what the server named, then save or submit again: only then is it sent. "
      + "To delete it instead, use \"Discard\" under \"Needs your attention\" on My caseload."));
}

const CHOICE_TEXT = { mine: "kept their own words", server: "kept the server's text", merged: "merged the two texts" };

// The record's resolved conflicts, as decided on this tablet: both texts stay in view.
export async function historySection(recordId) {
  const entries = await state.store.history(recordId);
  if (!entries.length) return null;
  const shown = (text) => (text === null || text === undefined || text === "" ? "(empty)" : String(text));
  return h("section", { "aria-labelledby": "resolved-conflicts" },
    h("h2", { id: "resolved-conflicts" }, "Resolved conflicts"),
    h("ul", { className: "record-list" }, entries.map((entry) => h("li", {},
      h("strong", {}, fieldLabel(entry.field)), `: ${entry.by} ${CHOICE_TEXT[entry.choice] || entry.choice} on ${dateTime(entry.at)}.`,
      h("p", { className: "text" }, `Words from this tablet: ${shown(entry.mine)}`),
      h("p", { className: "text" }, `The server's text: ${shown(entry.server)}`),
      entry.choice === "merged" ? h("p", { className: "text" }, `Merged text: ${shown(entry.result)}`) : null))));
}
