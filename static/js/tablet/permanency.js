// Permanency planning on the offline tablet (SPEC §3 R3, R12): the two-year timeframe against the
// device date, a line-for-line mirror of two_year_deadline and two_year_status in
// fieldapp/services/permanency.py, checked against tests/vectors/permanency.json. Dates are
// 'YYYY-MM-DD'; arithmetic is on UTC day numbers, so no timezone or DST can move a day.

// The labels and numbers are the server's (fieldapp/services/permanency.py), served in
// /tablet/fields.js with the shell, never copied here.
import { APPROACHING_DAYS, TWO_YEAR_MONTHS } from "/tablet/fields.js";

export { GOAL_LABELS, YOUTH_JUSTICE_STATUS, YOUTH_JUSTICE_TEAM } from "/tablet/fields.js";

const DAY_MS = 86400000;
export const TIMEFRAME_TEXT = { within: "Within", approaching: "Approaching", exceeded: "Exceeded", not_applicable: "Not applicable" };
export const ABORIGINAL_STATUS = {
  aboriginal: "Aboriginal", torres_strait_islander: "Torres Strait Islander",
  both: "Aboriginal and Torres Strait Islander", neither: "Neither Aboriginal nor Torres Strait Islander", unknown: "Not known",
};
export const RESIDENCE = { nt: "In the NT", interstate: "Interstate", boarding_interstate: "Boarding school interstate" };

function day(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`not a date: ${iso}`);
  return Date.UTC(+m[1], m[2] - 1, +m[3]) / DAY_MS;
}

// R3: calendar months later; a day past the target month's end clamps to its last day.
export function addMonths(iso, months) {
  const [year, month, dayOfMonth] = iso.split("-").map(Number);
  const index = month - 1 + months;
  const y = year + Math.floor(index / 12);
  const m = ((index % 12) + 12) % 12;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(dayOfMonth, last))).toISOString().slice(0, 10);
}

// R3 (`002` § Permanency Goal Reviews): two years from the goal set date, for every goal but
// long-term care.
export function twoYearDeadline(goal, goalSetDate) {
  if (!goal || !goalSetDate || goal === "long_term_care") return null;
  return addMonths(goalSetDate, TWO_YEAR_MONTHS);
}

// R3: within, approaching (90 days or fewer left) or exceeded on `today`.
export function twoYearStatus(deadline, today) {
  if (!deadline) return { status: "not_applicable", daysToDeadline: null };
  const left = day(deadline) - day(today);
  if (left < 0) return { status: "exceeded", daysToDeadline: left };
  return { status: left <= APPROACHING_DAYS ? "approaching" : "within", daysToDeadline: left };
}

// The words shown beside the deadline.
export function timeframeText({ status, daysToDeadline }) {
  if (status === "not_applicable") return "Not applicable (long-term care)";
  if (status === "exceeded") return `Exceeded by ${-daysToDeadline} day${daysToDeadline === -1 ? "" : "s"}`;
  return `${TIMEFRAME_TEXT[status]}: ${daysToDeadline} day${daysToDeadline === 1 ? "" : "s"} left`;
}
