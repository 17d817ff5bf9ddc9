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

// Each date is checked once (the caseload assesses thousands): the day numbers of valid dates
// are kept; an invalid date throws every time.
const DAYS = new Map();

function day(iso) {
  if (DAYS.has(iso)) return DAYS.get(iso);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const n = m ? Date.UTC(+m[1], m[2] - 1, +m[3]) / DAY_MS : NaN;
  if (!m || iso !== text(n)) throw new RangeError(`not a date: ${iso}`);
  DAYS.set(iso, n);
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
export function assessChild(child, contacts, returnVisits, on, dueSoonDays = 7) {
  return assessFacts(childFacts(child, contacts, returnVisits), on, dueSoonDays);
}

// assess_child in two steps, so the caseload can keep the first (in a sealed summary) and take
// the second on any day: what R1 and R2 need of a child's history whatever the date (its care
// dates, each qualifying contact's date and whether staff made it, each return visit's dates),
// and the assessment of those facts on `on`.
export function childFacts({ care_start_date, care_end_date }, contacts, returnVisits) {
  return {
    care_start_date, care_end_date,
    qualifying: contacts.filter(isQualifyingContact).map((c) => [c.contact_date, c.made_by === "practitioner"]),
    returnVisits: returnVisits.map((v) => [v.arrival_date, v.departure_date]),
  };
}

export function assessFacts({ care_start_date, care_end_date, qualifying, returnVisits }, on, dueSoonDays = 7) {
  if (!inCareOn(care_start_date, care_end_date, on)) {
    return { inCare: false, lastContactDate: null, dueDate: null, status: null, daysOverdue: null, visitStatuses: [] };
  }
  const today = day(on);
  const counted = qualifying.map(([date, byStaff]) => [day(date), date, byStaff]).filter(([n]) => n <= today);
  const last = counted.reduce((max, c) => (max === null || c[0] > max[0] ? c : max), null);
  const staff = counted.filter((c) => c[2]).map((c) => c[1]);
  const visits = returnVisits.map(([arrival, departure]) => [day(arrival), day(departure)])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const lastDate = last && last[1];
  const { status, daysOverdue, dueDate: due } = complianceOn(dueDate(lastDate, care_start_date), on, dueSoonDays);
  return {
    inCare: true, lastContactDate: lastDate, dueDate: due, status, daysOverdue,
    visitStatuses: visits.map(([a, d]) => returnVisitStatus(text(a), text(d), staff, on)),
  };
}
