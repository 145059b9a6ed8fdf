import type { SessionConfig } from '@ballast/client';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** An equity reserve's market hours in words ("Mon–Fri 09:30–16:00 New York"). */
export function marketHours(s: SessionConfig): string {
  const days = DAYS.filter((_, i) => s.weekdayMask & (1 << i));
  const span = days.length === 5 && days[0] === 'Mon' ? 'Mon–Fri' : days.join(' ');
  return `${span} ${hhmm(s.openMinute)}–${hhmm(s.closeMinute)} New York`;
}

/** Whether the session is open at `now` (New York time from the browser's time-zone data). The
 * program decides on chain; this is for display: outside the session the asset is reduce-only. */
export function sessionOpen(s: SessionConfig, now: Date): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const weekday = DAYS.indexOf(parts.weekday);
  const localDay = Math.floor(Date.UTC(+parts.year, +parts.month - 1, +parts.day) / 86_400_000);
  const minute = +parts.hour * 60 + +parts.minute;
  if (!(s.weekdayMask & (1 << weekday))) return false;
  if (s.holidays.slice(0, s.holidayCount).includes(localDay)) return false;
  const close = s.earlyCloses.slice(0, s.earlyCloseCount).includes(localDay) ? s.earlyCloseMinute : s.closeMinute;
  return minute >= s.openMinute && minute < close;
}
