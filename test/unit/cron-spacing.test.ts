/** A cron's closest firings, over the whole day: what SCHEDULE_MIN_INTERVAL_SEC holds a cron schedule to. */
import { cronMinGapSec, cronSpacing } from '../../api/cron-spacing';

describe('cronMinGapSec', () => {
  it('finds a close pair of firings that the first ten firings do not show', () => {
    // Every five minutes for the first ten firings, then every minute from :45.
    const minutes = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, ...Array.from({ length: 14 }, (_, i) => 46 + i)];
    expect(cronMinGapSec(`${minutes.join(',')} 3 * * *`)).toBe(60);
  });

  it('reads steps, ranges, lists and named crons', () => {
    expect(cronMinGapSec('*/5 * * * *')).toBe(300);
    expect(cronMinGapSec('*/1 * * * *')).toBe(60);
    expect(cronMinGapSec('* * * * *')).toBe(60);
    expect(cronMinGapSec('0 * * * *')).toBe(3600);
    expect(cronMinGapSec('0,30 * * * *')).toBe(1800);
    expect(cronMinGapSec('10/20 9-17 * * 1-5')).toBe(1200);
    expect(cronMinGapSec('0 9 * * 1-5')).toBe(86_400); // the days it fires on are left out: a lower bound
    expect(cronMinGapSec('@hourly')).toBe(3600);
    expect(cronMinGapSec('@weekly')).toBe(86_400);
  });

  it('counts the gap across midnight', () => {
    expect(cronMinGapSec('59 23 * * *')).toBe(86_400);
    expect(cronMinGapSec('0,59 0,23 * * *')).toBe(60); // 23:59, then 00:00 the next day
  });

  it('gives null for what it cannot read, so that the caller can refuse it', () => {
    for (const cron of ['L * * * *', '*/0 * * * *', '60 * * * *', '0 24 * * *', '5-1 * * * *', '0 * * *', '@every 1s', '0 9 * * MON-FRI *']) {
      expect([cron, cronMinGapSec(cron)]).toEqual([cron, null]);
    }
  });
});

describe('cronSpacing', () => {
  it('takes a cron whose closest firings keep to the minimum, and refuses one that does not or cannot be read', () => {
    const bypass = `0,5,10,15,20,25,30,35,40,45,${Array.from({ length: 14 }, (_, i) => 46 + i).join(',')} 3 * * *`;
    expect(cronSpacing(bypass, 300)).toEqual({ ok: false, gapSec: 60 });
    expect(cronSpacing('*/5 * * * *', 300)).toEqual({ ok: true });
    expect(cronSpacing('0 * * * *', 300)).toEqual({ ok: true });
    expect(cronSpacing('*/1 * * * *', 120)).toEqual({ ok: false, gapSec: 60 });
    expect(cronSpacing('L * * * *', 120)).toEqual({ ok: false, gapSec: null });
    // A minute or less: every five-field cron keeps to it.
    expect(cronSpacing('* * * * *', 60)).toEqual({ ok: true });
    expect(cronSpacing('L * * * *', 60)).toEqual({ ok: true });
  });
});
