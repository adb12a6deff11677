/** Pure helpers behind the UI's file-write diffs, its file downloads, and the terminal's pretty log lines. */
import { lineDiff } from '../../web/src/diff';
import { downloadableBlob } from '../../web/src/download';
import { prettyLine } from '../../shared/log-format';

describe('line diff of a file write', () => {
  it('keeps common lines and marks what was removed and added, in order', () => {
    expect(lineDiff('a\nb\nc\nd', 'a\nB\nc\nd\ne')).toEqual([
      { op: 'same', text: 'a' },
      { op: 'del', text: 'b' },
      { op: 'add', text: 'B' },
      { op: 'same', text: 'c' },
      { op: 'same', text: 'd' },
      { op: 'add', text: 'e' },
    ]);
  });

  it('handles empty sides and identical text', () => {
    expect(lineDiff('', 'x')).toEqual([{ op: 'del', text: '' }, { op: 'add', text: 'x' }]);
    expect(lineDiff('same\ntext', 'same\ntext')!.every((l) => l.op === 'same')).toBe(true);
  });

  it('gives up (null) on changes too large to compare line by line, after trimming the common head and tail', () => {
    const many = (p: string) => Array.from({ length: 3000 }, (_, i) => `${p}${i}`).join('\n');
    expect(lineDiff(`head\n${many('a')}\ntail`, `head\n${many('b')}\ntail`)).toBeNull();
    // Large but mostly the same: the common parts need no table.
    const big = many('line');
    expect(lineDiff(`${big}\nold`, `${big}\nnew`)!.filter((l) => l.op !== 'same')).toEqual([{ op: 'del', text: 'old' }, { op: 'add', text: 'new' }]);
  });
});

describe('pretty log lines', () => {
  it('turns a pino JSON line into time, level, message and fields, with the error stack indented', () => {
    const time = Date.UTC(2026, 10, 22, 12, 4, 5);
    const line = prettyLine(JSON.stringify({ level: 40, time, pid: 1, hostname: 'h', name: 'longhaul', msg: 'slow call', runId: 'run_1', ms: 812, note: 'two words', err: { message: 'boom', stack: 'Error: boom\n    at x' } }));
    expect(line).toMatch(/^\d\d:\d\d:\d\d WARN {2}slow call {2}runId=run_1 ms=812 note="two words"\n {4}Error: boom\n {8}at x\n$/);
  });

  it('passes through what is not JSON', () => {
    expect(prettyLine('plain text')).toBe('plain text');
  });
});

describe('a workspace file handed to the Download link', () => {
  it('is typed application/octet-stream whatever the server said, so a browser saves it and never renders it in the app', async () => {
    const page = new Blob(['<script>steal(localStorage)</script>'], { type: 'text/html' });
    const download = downloadableBlob(page);
    expect(download.type).toBe('application/octet-stream');
    expect(await download.text()).toBe('<script>steal(localStorage)</script>');
  });
});
