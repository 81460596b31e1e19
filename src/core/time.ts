import { UsageError } from './errors.js';

/**
 * Parses a user-given instant: ISO-8601 (`2026-03-04`, `2026-03-04T10:00:00Z`) or a relative
 * span back from `now` (`90d`, `12h`, `30m`). Dates without a zone are UTC.
 */
export function parseInstant(text: string, now: Date = new Date()): Date {
  const relative = /^(\d+)([dhm])$/.exec(text.trim());
  if (relative) {
    const n = Number(relative[1]);
    const unit = relative[2] === 'd' ? 86_400_000 : relative[2] === 'h' ? 3_600_000 : 60_000;
    const date = new Date(now.getTime() - n * unit);
    // CloudTrail began in 2013: a span reaching before the year 1970 is a typo, not a window.
    if (!(date.getTime() >= 0)) throw new UsageError(`the span "${text}" reaches before 1970; CloudTrail keeps nothing that old: use a smaller span or an ISO-8601 time`);
    return date;
  }
  const trimmed = text.trim();
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(trimmed);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const iso = dateOnly ? `${trimmed}T00:00:00Z` : hasZone ? trimmed : `${trimmed}Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-/.test(trimmed)) {
    throw new UsageError(`cannot read "${text}" as a time; use ISO-8601 (2026-03-04 or 2026-03-04T10:00:00Z) or a span such as 7d, 12h, 30m`);
  }
  return date;
}

/** Formats an instant as UTC ISO-8601 with second precision (`2026-03-04T10:00:00Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
