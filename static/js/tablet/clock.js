// The tablet's dates and times (SPEC §3): read from the device clock, in the organisation's
// timezone (every page the app starts from carries it: the shell and the sign-in page), and
// shown in one format, dd/mm/yyyy as on the server pages. A warning shows when the device date
// looks wrong compared with the last date the server gave. The device clock never orders or
// merges anything.

// Read when asked, not when the module loads: the sign-in page hands over to the app in place.
function organisationTimezone() {
  return globalThis.document?.documentElement?.dataset.timezone || undefined;
}

// Building a formatter costs far more than using one (the caseload asks for today per draw).
const formats = new Map();

function parts(now, options) {
  const timeZone = organisationTimezone();
  const key = `${timeZone}|${Object.keys(options).join()}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat("en-AU", { timeZone, hourCycle: "h23", ...options }));
  const format = formats.get(key);
  return Object.fromEntries(format.formatToParts(now).map(({ type, value }) => [type, value]));
}

// Today's date (yyyy-mm-dd) in the organisation's timezone, whatever zone the tablet is set to.
export function deviceToday(now = new Date()) {
  const { year, month, day } = parts(now, { year: "numeric", month: "2-digit", day: "2-digit" });
  return `${year}-${month}-${day}`;
}

// A moment (a timestamp or an ISO date-time) as "02/12/2026 14:05", in the organisation's timezone.
export function dateTime(moment) {
  const { year, month, day, hour, minute } = parts(new Date(moment), {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
  return `${day}/${month}/${year} ${hour}:${minute}`;
}

function dayNumber(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return Date.UTC(year, month - 1, day) / 86400000;
}

// `clock` is what the last sync saw: {serverDate, deviceDate}. The device was wrong then if the
// two differed by more than a day; it is wrong now if today is over a day before the server's
// last date (a clock cannot run backwards). Days offline move today past serverDate legitimately.
export function clockWarning(clock, today) {
  if (!clock || !clock.serverDate) return null;
  const server = dayNumber(clock.serverDate);
  const offAtSync = clock.deviceDate ? Math.abs(dayNumber(clock.deviceDate) - server) : 0;
  const behindNow = server - dayNumber(today);
  if (offAtSync <= 1 && behindNow <= 1) return null;
  return { today, serverDate: clock.serverDate };
}
