/**
 * Timestamps as a person reads them: "3 minutes ago (2026-12-03 09:14)", in local time. Pure:
 * the current time is passed in.
 */

const pad = (n: number): string => String(n).padStart(2, '0');

/** A local date and time to the minute: `2026-12-03 09:14`. */
export function localMinute(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

const UNITS: [string, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** How long ago `then` was, in its largest whole unit: `just now`, `1 minute ago`, `2 days ago`. */
export function timeAgo(then: Date, now: Date): string {
  const seconds = Math.floor((now.getTime() - then.getTime()) / 1000);
  // A clock set back, or a stamp from another machine, can lie ahead of now.
  if (seconds < 0) return 'in the future';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/**
 * An ISO timestamp as `3 minutes ago (2026-12-03 09:14)`; a string that is not a date comes
 * back as it is.
 */
export function readableTimestamp(iso: string, now: Date): string {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return iso;
  return `${timeAgo(then, now)} (${localMinute(then)})`;
}
