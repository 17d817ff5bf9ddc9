// Contact compliance (SPEC §3 R1, R2) for the offline tablet: a line-for-line mirror of
// fieldapp/services/compliance.py, checked against tests/vectors/compliance.json.
// Dates are 'YYYY-MM-DD' in and out; arithmetic is on UTC day numbers, so no timezone or DST
// can move a day.

const INTERVAL_DAYS = 42;
const DAY_MS = 86400000;
// What Python's str.strip() removes (str.isspace), which differs from JS trim() and \s.
// Python's isspace counts \x1c-\x1f (the file, group, record and unit separators) as blanks.
// eslint-disable-next-line no-control-regex -- the control characters are the point: see above
const BLANK = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function day(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const n = m ? Date.UTC(+m[1], m[2] - 1, +m[3]) / DAY_MS : NaN;
  if (!m || iso !== text(n)) throw new RangeError(`not a date: ${iso}`);
  return n;
}

function text(n) {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

// R1, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: a submitted, face-to-face
// contact in which the child was seen, made by staff or by a named third party with a role.
export function isQualifyingContact(contact) {
  if (contact.status !== "submitted" || !contact.contact_date) return false;
  if (contact.mode !== "face_to_face" || !contact.child_seen) return false;
  if (contact.made_by === "practitioner") return true;
  return contact.made_by === "third_party"
    && !BLANK.test(contact.third_party_name || "") && !BLANK.test(contact.third_party_role || "");
}

// R1, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: due 42 days after the
// latest qualifying contact, or after the care start date if there has been none.
export function dueDate(lastQualifyingContactDate, careStartDate) {
  return text(day(lastQualifyingContactDate || careStartDate) + INTERVAL_DAYS);
}

// R1, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: overdue once the due date
// has passed, due soon within dueSoonDays of it, otherwise on track.
export function complianceOn(due, on, dueSoonDays = 7) {
  const left = day(due) - day(on);
  if (left < 0) return { dueDate: due, status: "overdue", daysOverdue: -left };
  return { dueDate: due, status: left <= dueSoonDays ? "due_soon" : "on_track", daysOverdue: 0 };
}

// R1, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: children whose care ended
// are not counted; care that ends on a day is over that day.
export function inCareOn(careStart, careEnd, on) {
  return day(careStart) <= day(on) && (!careEnd || day(careEnd) > day(on));
}

// R2, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: a return visit is met by a
// staff contact within arrival..departure (and by `on`), pending while on <= departure, else missed.
export function returnVisitStatus(arrival, departure, staffContactDates, on) {
  const [a, d, o] = [day(arrival), day(departure), day(on)];
  if (staffContactDates.some((s) => a <= day(s) && day(s) <= d && day(s) <= o)) return "met";
  return o <= d ? "pending" : "missed";
}

// R1 and R2, ../shared/policy/004_dcb78a5a5aa9b296.txt § Contact with child: one child from its
// plain history, as Python's assess_child. returnVisits: [{arrival_date, departure_date}].
export function assessChild({ care_start_date, care_end_date }, contacts, returnVisits, on, dueSoonDays = 7) {
  if (!inCareOn(care_start_date, care_end_date, on)) {
    return { inCare: false, lastContactDate: null, dueDate: null, status: null, daysOverdue: null, visitStatuses: [] };
  }
  const qualifying = contacts.filter((c) => isQualifyingContact(c) && day(c.contact_date) <= day(on));
  const last = qualifying.reduce((max, c) => (max === null || day(c.contact_date) > day(max) ? c.contact_date : max), null);
  const staff = qualifying.filter((c) => c.made_by === "practitioner").map((c) => c.contact_date);
  const visits = returnVisits.map((v) => [day(v.arrival_date), day(v.departure_date)])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const { status, daysOverdue, dueDate: due } = complianceOn(dueDate(last, care_start_date), on, dueSoonDays);
  return {
    inCare: true, lastContactDate: last, dueDate: due, status, daysOverdue,
    visitStatuses: visits.map(([a, d]) => returnVisitStatus(text(a), text(d), staff, on)),
  };
}
