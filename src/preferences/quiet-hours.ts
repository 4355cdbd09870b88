// Quiet hours: when a message to a customer may be sent next. Pure; time zones come from the
// runtime's IANA data through Intl, so no date library is needed.
//
// Invariants:
// - quiet hours are a half-open local window [start, end); start > end wraps midnight
//   (22:00–08:00), start == end or a missing bound means no quiet hours;
// - the result is `now` when now's local wall-clock time is outside the window, else the first
//   instant after now whose local wall-clock time reaches `end`: on a spring-forward day an end
//   time that does not exist (02:30 in a 02:00→03:00 gap) gives the instant of the jump (03:00),
//   and on a fall-back day an end time that occurs twice gives its first occurrence after now.

export interface QuietHoursPreferences {
  timezone: string;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The next instant a message may be sent, given the customer's quiet hours in their time zone. */
export function nextAllowedSendTime(now: Date, prefs: QuietHoursPreferences): Date {
  if (prefs.quietHoursStart === null || prefs.quietHoursEnd === null) return now;
  const start = minutesOfDay(prefs.quietHoursStart);
  const end = minutesOfDay(prefs.quietHoursEnd);
  if (start === end) return now;

  const local = wallClock(now.getTime(), prefs.timezone);
  const localMs = local % DAY_MS;
  const startMs = start * MINUTE_MS;
  const endMs = end * MINUTE_MS;
  const wraps = start > end;
  const inside = wraps ? localMs >= startMs || localMs < endMs : localMs >= startMs && localMs < endMs;
  if (!inside) return now;

  // The window ends today (local), unless it wraps and we are in its evening part.
  const localMidnight = local - localMs;
  const endDay = wraps && localMs >= startMs ? localMidnight + DAY_MS : localMidnight;
  return new Date(firstInstantAtOrAfterWallTime(endDay + endMs, prefs.timezone, now.getTime()));
}

/** "HH:MM" (24 h) as minutes since midnight. */
export function minutesOfDay(hhmm: string): number {
  const match = HH_MM.exec(hhmm);
  if (!match) throw new RangeError(`not a HH:MM time: ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * The earliest instant after `after` whose local wall-clock time (as epoch ms of a UTC clock
 * showing the same digits) is `wall`; if the zone skips over `wall`, the instant of the skip.
 */
function firstInstantAtOrAfterWallTime(wall: number, timeZone: string, after: number): number {
  // At most one offset change is assumed within a day on either side of the target.
  const offsetBefore = offsetAt(wall - DAY_MS, timeZone);
  const offsetAfter = offsetAt(wall + DAY_MS, timeZone);
  const candidates = [...new Set([wall - offsetBefore, wall - offsetAfter])]
    .filter((instant) => wallClock(instant, timeZone) === wall && instant > after)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  if (offsetAfter > offsetBefore) {
    const jump = transitionInstant(wall - offsetAfter, wall - offsetBefore, timeZone, offsetAfter);
    if (jump > after) return jump;
  }
  // Only reachable for offsets that change more than once a day; the wall time read naively.
  return Math.max(wall - offsetAfter, after);
}

/** The first instant in (low, high] at which the zone's offset is `offsetAfter` (whole seconds). */
function transitionInstant(low: number, high: number, timeZone: string, offsetAfter: number): number {
  let lo = Math.floor(low / 1000);
  let hi = Math.ceil(high / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * 1000, timeZone) === offsetAfter) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

/** UTC offset of the zone at the instant, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallClock(whole, timeZone) - whole;
}

/** The local wall-clock time at the instant, as epoch ms of a UTC clock showing the same digits. */
function wallClock(instant: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const ms = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'), ms);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}
