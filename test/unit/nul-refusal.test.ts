/**
 * The NUL scan of a parsed JSON body (api/nul-refusal.ts): every string and key, however deep or long the body. It
 * runs where nothing would catch a throw (the body stream's end), so a body's shape must never make it throw.
 */
import { holdsNul } from '../../api/nul-refusal';

describe('the NUL scan of a JSON body', () => {
  it('finds a NUL in any string or key, at any depth', () => {
    expect(holdsNul({ goal: 'fine', metadata: { tags: ['a', 'b'] } })).toBe(false);
    expect(holdsNul({ goal: 'a\u0000b' })).toBe(true);
    expect(holdsNul({ metadata: { 'k\u0000': 1 } })).toBe(true);
    expect(holdsNul([[[{ deep: ['x', 'y\u0000'] }]]])).toBe(true);
    expect(holdsNul(null)).toBe(false);
  });

  it('scans an array of 200,000 items and a body nested 100,000 deep without throwing', () => {
    // More than a 256 KB body can hold (131,000): spreading such an array onto the stack overflowed it, ending the process.
    expect(holdsNul(new Array(200_000).fill(0))).toBe(false);
    expect(holdsNul([...new Array<string>(199_999).fill('x'), '\u0000'])).toBe(true);
    let nested: unknown = 'end\u0000';
    for (let i = 0; i < 100_000; i += 1) nested = [nested];
    expect(holdsNul(nested)).toBe(true);
  });
});
