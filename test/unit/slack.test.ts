import { approvalMessage, escapeMrkdwn } from '../../shared/slack/approval-message';
import type { ApprovalRecord } from '../../shared/store/approvals';
import { slackSignature, verifySlackSignature } from '../../shared/slack/verify-signature';

describe('Slack request signatures', () => {
  const body = Buffer.from('payload=%7B%7D');
  const now = 1_800_000_000;
  const sign = (ts: number, secret = 's3cret') => slackSignature(secret, String(ts), body);

  it('accepts a fresh, correctly signed request', () => {
    expect(verifySlackSignature({ signingSecret: 's3cret', timestamp: String(now), signature: sign(now), rawBody: body, nowSec: now })).toBe('ok');
  });

  it.each([
    ['a wrong secret', { timestamp: String(now), signature: sign(now, 'other') }, 'mismatch'],
    ['a signature of another length', { timestamp: String(now), signature: 'v0=abc' }, 'mismatch'],
    ['no signature', { timestamp: String(now), signature: undefined }, 'missing'],
    ['no timestamp', { timestamp: undefined, signature: sign(now) }, 'missing'],
    ['a timestamp over five minutes old', { timestamp: String(now - 301), signature: sign(now - 301) }, 'stale'],
    ['a timestamp far in the future', { timestamp: String(now + 301), signature: sign(now + 301) }, 'stale'],
    ['a non-numeric timestamp', { timestamp: '12abc', signature: sign(now) }, 'mismatch'],
  ])('refuses %s', (_name, headers, expected) => {
    expect(verifySlackSignature({ signingSecret: 's3cret', rawBody: body, nowSec: now, ...headers })).toBe(expected);
  });

  it('is bound to the exact body', () => {
    const tampered = Buffer.from('payload=%7B%22x%22%7D');
    expect(verifySlackSignature({ signingSecret: 's3cret', timestamp: String(now), signature: sign(now), rawBody: tampered, nowSec: now })).toBe('mismatch');
  });
});

describe('approval messages', () => {
  const approval: ApprovalRecord = {
    id: 'apr_1',
    runId: 'run_1',
    kind: 'tool',
    turn: 1,
    toolUseId: 't',
    tool: 'http_request',
    input: { url: 'http://x/<!channel>' },
    inputHash: 'h',
    risk: 'write',
    reason: 'http_request is a write action',
    status: 'pending',
    requestedAt: '2026-11-22T00:00:00.000Z',
    expiresAt: '2026-11-23T00:00:00.000Z',
    decidedBy: null,
    channel: null,
    comment: null,
    decidedAt: null,
    slack: null,
  };

  it('escapes agent- and user-supplied text so it cannot ping channels or fake links', () => {
    expect(escapeMrkdwn('<!channel> & <http://evil|click>')).toBe('&lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
    const msg = JSON.stringify(approvalMessage(approval, { id: 'run_1', goal: 'Hi <!here>', owner: 'alice' }));
    expect(msg).not.toContain('<!here>');
    expect(msg).not.toContain('<!channel>');
    expect(msg).toContain('&lt;!here&gt;');
  });

  it('replaces the buttons with the outcome once decided', () => {
    const decided = approvalMessage({ ...approval, status: 'rejected', decidedBy: 'bob', channel: 'web', comment: 'no', decidedAt: '2026-11-22T01:00:00.000Z' }, { id: 'run_1', goal: 'g', owner: 'alice' });
    expect(decided.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(decided.blocks)).toContain('*Rejected* by bob (web): “no”');
  });
});
