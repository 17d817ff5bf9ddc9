// Option labels shared with the online form (fieldapp/contacts/forms.py); a browser test checks
// the two agree.
export const MODE = [["face_to_face", "Face-to-face"], ["video", "Video"], ["phone", "Phone"]];
export const MADE_BY = [["practitioner", "Me"], ["third_party", "Third party"]];
export const LOCATION = [
  ["", "Choose…"], ["placement", "Placement (where the child lives)"], ["school", "School"],
  ["office", "Office"], ["community", "Community"], ["interstate", "Interstate"], ["other", "Other"],
];
export const VIEWS_METHOD = [
  ["", "Choose…"], ["conversation", "Conversation"], ["play_or_drawing", "Play or drawing"],
  ["observation", "Observation"], ["advocate_or_interpreter", "Through an advocate or interpreter"], ["other", "Other"],
];
export const PARTICIPANT_ROLE = [
  ["", "Choose…"], ["child", "Child"], ["parent", "Parent"], ["family_member", "Family member"],
  ["carer", "Carer"], ["natural_support", "Natural support"], ["significant_other", "Significant other"],
  ["aboriginal_community_worker", "Aboriginal Community Worker"],
  ["aboriginal_practice_advisor", "Aboriginal Practice Advisor"],
  ["interpreter", "Interpreter"], ["youth_justice_officer", "Youth Justice Officer"],
  ["other_professional", "Other professional"],
];

export function labelOf(choices, value) {
  const found = choices.find(([v]) => v === value);
  return found ? found[1] : value;
}

// Field names on the wire to the labels the forms show, for the server's field-named errors.
export const FIELD_LABELS = {
  contact_date: "Date of contact", start_time: "Start time", duration_minutes: "Duration (minutes)", mode: "Contact type",
  made_by: "Made by", third_party_name: "Third party name", third_party_role: "Third party role", child_seen: "Child seen",
  seen_alone: "Seen alone", location: "Location", location_detail: "Location details",
  child_views: "Child's views (in their own words)", views_method: "How the views were gathered",
  views_not_recorded_reason: "Reason views were not recorded", language_used: "Language used", interpreter_used: "Interpreter used",
  worries: "Worries", working_well: "What's working well", needs_to_happen: "What needs to happen", safety_scale: "Safety scale",
  notes: "Other notes", participants: "Participants", actions: "Actions", child_id: "Child", contact_id: "Contact",
  reason: "Reason for the addendum", text: "Addendum", arrival_date: "Arrival date", departure_date: "Departure date",
  arrangement_note: "Arrangement (as documented in My Care Plan)",
};

export const FREE_TEXT = ["child_views", "views_not_recorded_reason", "worries", "working_well", "needs_to_happen", "notes",
  "location_detail", "reason", "text", "arrangement_note"];

export function fieldLabel(name) {
  const row = /^(participants|actions)-(\d+)-(\w+)$/.exec(name);
  if (row) return `${row[1] === "participants" ? "Participant" : "Action"} ${Number(row[2]) + 1} ${row[3].replace(/_/g, " ")}`;
  return FIELD_LABELS[name] || name;
}
