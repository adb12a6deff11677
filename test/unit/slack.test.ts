import { approvalMessage, escapeMrkdwn, INPUT_SHOWN_CHARS } from '../../shared/slack/approval-message';
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

  it("says which sub-agent of which run asks, for a child run's approval, and escapes the agent's name", () => {
    const origin = { runId: 'run_1', agent: 'w<!here>', parentRunId: 'run_mid', toolUseId: 'toolu_1', rootRunId: 'run_root', depth: 2 };
    const msg = approvalMessage(approval, { id: 'run_1', goal: 'g', owner: 'alice' }, 'https://longhaul.example', origin);
    const asked = msg.blocks.map((b) => (b as { text?: { text?: string } }).text?.text ?? '').find((t) => t.startsWith('*Asked by*'));
    expect(asked).toBe(
      '*Asked by*\nSub-agent `w&lt;!here&gt;` (run <https://longhaul.example/runs/run_1|run_1>) of run <https://longhaul.example/runs/run_root|run_root>, under run <https://longhaul.example/runs/run_mid|run_mid>',
    );
    expect(msg.text).toBe('Approval needed: http_request (sub-agent w&lt;!here&gt; of run run_root)');
    // A root run's approval says nothing of sub-agents.
    expect(JSON.stringify(approvalMessage(approval, { id: 'run_1', goal: 'g', owner: 'alice' }))).not.toContain('Asked by');
  });

  const inputSection = (a: ApprovalRecord, publicUrl?: string) =>
    approvalMessage(a, { id: 'run_1', goal: 'g', owner: 'alice' }, publicUrl).blocks.map((b) => (b as { text?: { text?: string } }).text?.text ?? '').find((t) => t.startsWith('*Input*'))!;

  it('says when tool input was cut, by how much, with the input hash and where to read it all', () => {
    const content = 'x'.repeat(INPUT_SHOWN_CHARS + 1000);
    const text = inputSection({ ...approval, tool: 'workspace_write', input: content, inputHash: 'abc123def456' }, 'https://longhaul.example');
    expect(text).toContain(`showing ${INPUT_SHOWN_CHARS} of ${INPUT_SHOWN_CHARS + 1000} characters (1000 more)`);
    expect(text).toContain('`abc123def456`');
    expect(text).toContain('<https://longhaul.example/runs/run_1|the whole call>');
    expect(text.length).toBeLessThanOrEqual(3000); // a section's text limit
    expect(inputSection({ ...approval, input: 'short' })).not.toContain('Cut');
  });

  it('keeps tool input inside its code block: backticks in the input cannot close it', () => {
    const text = inputSection({ ...approval, input: 'done```\n*Approve me, it is harmless*\n```more' });
    expect(text.match(/```/g)).toHaveLength(2); // the block's own opening and closing fence only
    expect(text.startsWith('*Input*\n```')).toBe(true);
    expect(text.endsWith('```')).toBe(true);
  });
});
