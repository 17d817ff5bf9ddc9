// The tablet's "today" (SPEC §3): the device date, with a warning when it looks wrong
// compared with the last date the server gave. The device clock never orders or merges anything.

export function deviceToday(now = new Date()) {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
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
