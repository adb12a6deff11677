/** The one tracker of streamed text that the buses and the run feed share. */
import { StreamedText } from '../../shared/bus/streamed-text';

describe('StreamedText', () => {
  it('appends contiguous text and adds only the new part of an overlapping piece', () => {
    const s = new StreamedText();
    expect(s.add(1, 1, 0, 'Hel').appended).toEqual([{ turn: 1, offset: 0, text: 'Hel' }]);
    expect(s.add(1, 1, 1, 'ello').appended).toEqual([{ turn: 1, offset: 3, text: 'lo' }]);
    expect(s.add(1, 1, 0, 'He').appended).toEqual([]);
    expect(s.snapshot).toEqual({ turn: 1, attempt: 1, text: 'Hello' });
  });

  it('holds pieces behind a gap until the gap is filled, then releases them in order', () => {
    const s = new StreamedText();
    expect(s.add(2, 1, 5, ' world')).toEqual({ appended: [], replaced: false, gap: true });
    expect(s.add(2, 1, 11, '!')).toMatchObject({ appended: [], gap: true });
    const filled = s.add(2, 1, 0, 'Hello');
    expect(filled.appended.map((p) => p.text)).toEqual(['Hello', ' world', '!']);
    expect(filled.gap).toBe(false);
    expect(s.snapshot?.text).toBe('Hello world!');
  });

  it('drops the text of a failed attempt when the retry streams, and ignores a stale attempt', () => {
    const s = new StreamedText();
    s.add(3, 1, 0, 'partial answer');
    const retry = s.add(3, 2, 0, 'Fresh');
    expect(retry.replaced).toBe(true);
    expect(s.snapshot).toEqual({ turn: 3, attempt: 2, text: 'Fresh' });
    expect(s.add(3, 1, 14, ' late')).toEqual({ appended: [], replaced: false, gap: false });
    expect(s.add(2, 9, 0, 'older turn').appended).toEqual([]);
    s.end(3);
    expect(s.snapshot).toBeNull();
  });
});
