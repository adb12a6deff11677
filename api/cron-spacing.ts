/**
 * How close together a five-field cron can fire, read from its minute and hour fields alone, so a
 * schedule's minimum spacing holds for every firing it will ever make — not only the next few,
 * which a cron can keep far apart before firing every minute later in the day.
 */

const MINUTES_PER_DAY = 24 * 60;

/** The named crons Temporal takes, as the five fields they stand for. */
const NAMED: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * The values one field matches (`*`, `n`, `a-b`, each with an optional `/step`, in a list), sorted;
 * null for anything else or out of range, so that the caller can refuse what it cannot read.
 */
function fieldValues(field: string, lo: number, hi: number): number[] | null {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) return null;
    const from = m[1] === '*' ? lo : Number(m[2]);
    // `a/step` runs from a to the field's end, as in `*/step`.
    const to = m[1] === '*' || (m[3] === undefined && m[4] !== undefined) ? hi : Number(m[3] ?? m[2]);
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < lo || to > hi || from > to || step < 1) return null;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * The smallest time in seconds between two firings of `cron` (five fields, or a named one), or null
 * when its minute or hour field is not one this reads. The days it fires on only ever space firings
 * further apart, so they are left out: a lower bound. Wall-clock time: a daylight-saving change in
 * the schedule's time zone can bring one pair of firings a year closer by the hour it skips.
 */
export function cronMinGapSec(cron: string): number | null {
  const fields = (NAMED[cron.trim()] ?? cron.trim()).split(/\s+/);
  if (fields.length !== 5) return null;
  const minutes = fieldValues(fields[0]!, 0, 59);
  const hours = fieldValues(fields[1]!, 0, 23);
  if (!minutes || !hours) return null;
  const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m));
  // The day's last firing to the next day's first, were the next day to fire too.
  let gap = MINUTES_PER_DAY - times[times.length - 1]! + times[0]!;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap * 60;
}

/**
 * Whether `cron` keeps to a minimum spacing of `minSec`: five fields fire at most once a minute, so a
 * minimum of a minute or less holds for any; over that, a cron this cannot read is not taken on trust.
 */
export function cronSpacing(cron: string, minSec: number): { ok: true } | { ok: false; gapSec: number | null } {
  if (minSec <= 60) return { ok: true };
  const gapSec = cronMinGapSec(cron);
  return gapSec !== null && gapSec >= minSec ? { ok: true } : { ok: false, gapSec };
}
