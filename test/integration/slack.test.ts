/**
 * Slack approvals end to end against a local fake Slack Web API. The interaction requests are
 * built from the buttons Longhaul actually posted and signed by the test the way Slack signs them. Team runs
 * (TEAM_ROLES) go to their team's channel (SLACK_TEAM_CHANNELS) and only that team's approvers decide them.
 */
import { admissionSignal } from '../../contract/workflow-messages';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { FakeSlack, type SlackCall } from '../support/fake-slack';
import { clickSlackButton, slackButton, type SlackAction } from '../support/slack-interactions';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const SIGNING_SECRET = 'test-signing-secret';
const ALICE = 'alice-token-0123456789';
const CHANNEL = 'C_APPROVALS';
const PAYMENTS_CHANNEL = 'C_PAYMENTS';
const PIA = 'pia-token-0123456789ab';
const QUIN = 'quin-token-0123456789a';

describe('approvals in Slack', () => {
  const fake = new FakeAnthropic();
  const slack = new FakeSlack();
  const outside = new CountingServer();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    await slack.start();
    await outside.start();
    h = await startHarness({
      env: {
        API_TOKENS: `${ALICE}:alice,bob-token-0123456789ab:bob,carol-token-0123456789:carol,${PIA}:pia,${QUIN}:quin`,
        APPROVERS: 'carol,dave',
        // Teams: pia starts payments runs, gina approves them; hank approves billing's; quin starts billing runs.
        TEAM_ROLES: 'pia:payments:member,gina:payments:approver,hank:billing:approver,quin:billing:member',
        SLACK_TEAM_CHANNELS: `payments:${PAYMENTS_CHANNEL}`,
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        HTTP_TOOL_ALLOWED_HOSTS: outside.host,
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_CHANNEL: CHANNEL,
        SLACK_USERS: 'U_ALICE:alice,U_BOB:bob,U_CAROL:carol,U_GINA:gina,U_HANK:hank',
        SLACK_API_URL: slack.url,
        PUBLIC_URL: 'http://longhaul.test',
      },
    });
    h.defaultToken = ALICE;
    // People the identity provider told us of (verified emails), and the Slack accounts that match them, or not.
    await h.store.users.upsert({ id: 'dave', email: 'dave@example.com' });
    await h.store.users.upsert({ id: 'frank', email: 'frank@example.com' });
    await h.store.users.upsert({ id: 'erin', email: 'erin@example.com' });
    await h.store.users.upsert({ id: 'twin-1', email: 'twins@example.com' });
    await h.store.users.upsert({ id: 'twin-2', email: 'twins@example.com' });
    slack.people.set('U_DAVE', { email: 'Dave@Example.com', emailConfirmed: true });
    slack.people.set('U_FRANK', { email: 'frank@example.com', emailConfirmed: true });
    slack.people.set('U_ERIN', { email: 'erin@example.com', emailConfirmed: false });
    slack.people.set('U_TWIN', { email: 'twins@example.com', emailConfirmed: true });
    slack.people.set('U_GONE', { email: 'dave@example.com', emailConfirmed: true, deleted: true });
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
    await slack.stop();
    await outside.stop();
  });

  async function runAwaitingApproval(marker: string, extra: Record<string, unknown> = {}, token = ALICE) {
    fake.script(marker, (req) =>
      req.assistantTurns === 0
        ? { toolUses: [{ name: 'http_request', input: { method: 'DELETE', url: `${outside.url}/records/${marker}` } }] }
        : { text: `done: ${req.lastToolResults[0]?.content.slice(0, 40)}` },
    );
    const id = await h.createRun({ goal: `Clean up ${marker}`, approvals: 'write', ...extra }, { token });
    const run = await h.waitForStatus(id, 'waiting_approval', { token });
    const approvalId = run.pendingApprovals[0].approvalId as string;
    let posted: SlackCall | undefined;
    await waitFor(() => (posted = slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? []).includes(approvalId))) !== undefined, {
      what: 'the approval to be posted to Slack',
    });
    return { id, approvalId, posted: posted! };
  }

  const button = slackButton;
  const click = (posted: SlackCall, actionId: SlackAction, slackUser: string, opts: { secret?: string; timestamp?: number } = {}) =>
    clickSlackButton(h.api.url, posted, actionId, slackUser, { ...opts, secret: opts.secret ?? SIGNING_SECRET });

  const ephemeralsTo = (user: string) => slack.callsTo('chat.postEphemeral').filter((c) => c.args.user === user);

  it('posts a Block Kit request with the run, goal, tool, input, risk, expiry and buttons', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[post]');
    expect(posted.token).toBe('xoxb-test');
    expect(posted.args.channel).toBe(CHANNEL);
    const text = JSON.stringify(posted.args.blocks);
    expect(text).toContain('Approval needed: http_request');
    expect(text).toContain(`<http://longhaul.test/runs/${id}|${id}>`);
    expect(text).toContain('Clean up [post]');
    expect(text).toContain('\\"method\\": \\"DELETE\\"');
    expect(text).toContain('*Risk*\\nwrite');
    expect(text).toMatch(/\*Expires\*\\n<!date\^\d+\^/);
    expect(JSON.parse(button(posted, 'longhaul_approve').value)).toEqual({ runId: id, approvalId });
    expect(button(posted, 'longhaul_reject').style).toBe('danger');
    const res = await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision: 'reject' } });
    expect(res.status).toBe(200);
    // Decided elsewhere: the Slack message is updated too.
    await waitFor(() => slack.callsTo('chat.update').some((c) => JSON.stringify(c.args.blocks).includes(approvalId) && JSON.stringify(c.args.blocks).includes('*Rejected* by alice (api)')), {
      what: 'the Slack message to show the web decision',
    });
    await h.waitForStatus(id, 'completed');
  });

  it('approves from a signed button click, answers at once, and updates the message', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[click]');
    const started = Date.now();
    const res = await click(posted, 'longhaul_approve', 'U_ALICE');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000); // Slack's own deadline for an answer
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toContain('done:');
    expect(outside.requests.filter((r) => r.path.includes('click'))).toHaveLength(1);
    expect((await h.store.approvals.get(approvalId))).toMatchObject({ status: 'approved', decidedBy: 'alice', channel: 'slack' });
    const showsApproval = (c: SlackCall) => JSON.stringify(c.args.blocks).includes(approvalId) && JSON.stringify(c.args.blocks).includes('*Approved* by alice (slack)');
    await waitFor(() => slack.callsTo('chat.update').some(showsApproval), { what: 'chat.update showing the approval' });
    const update = slack.callsTo('chat.update').find(showsApproval)!;
    expect((update.args.blocks as any[]).some((b) => b.type === 'actions')).toBe(false);

    // A repeated click changes nothing (and says so).
    const before = (await h.events(id)).length;
    expect((await click(posted, 'longhaul_approve', 'U_ALICE')).status).toBe(200);
    await waitFor(() => ephemeralsTo('U_ALICE').some((c) => /already approved/.test(c.args.text)), { what: 'the double-click reply' });
    // And a different approver clicking Reject afterwards cannot flip it.
    expect((await click(posted, 'longhaul_reject', 'U_CAROL')).status).toBe(200);
    await waitFor(() => ephemeralsTo('U_CAROL').some((c) => /Already approved by alice; nothing changed/.test(c.args.text)), { what: 'the late-click reply' });
    expect((await h.store.approvals.get(approvalId))!.status).toBe('approved');
    expect((await h.events(id)).length).toBe(before);
  });

  it('refuses forged and stale requests with 401 and signals nothing', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[forged]');
    const forged = await click(posted, 'longhaul_approve', 'U_ALICE', { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as any).error.code).toBe('invalid_signature');
    const stale = await click(posted, 'longhaul_approve', 'U_ALICE', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).error.code).toBe('stale_request');
    const unsigned = await fetch(`${h.api.url}/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload={}' });
    expect(unsigned.status).toBe(401);

    expect((await h.store.approvals.get(approvalId))!.status).toBe('pending');
    expect((await h.getRun(id)).status).toBe('waiting_approval');
    const history = await h.history(id);
    // Only a decision would be news here: another test's run ending may wake this one for an admission slot.
    const signals = history.events!.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
    expect(signals.filter((name) => name !== admissionSignal.name)).toEqual([]);
    await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision: 'reject' } });
    await h.waitForStatus(id, 'completed');
  });

  it('changes nothing for unknown or unauthorised Slack users, and tells them so', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[who]');
    expect((await click(posted, 'longhaul_approve', 'U_STRANGER')).status).toBe(200);
    await waitFor(() => ephemeralsTo('U_STRANGER').some((c) => /not linked to a Longhaul user/.test(c.args.text)), { what: 'the unknown-user reply' });
    expect((await click(posted, 'longhaul_approve', 'U_BOB')).status).toBe(200);
    await waitFor(() => ephemeralsTo('U_BOB').some((c) => /may not decide approvals on this run/.test(c.args.text)), { what: 'the unauthorised reply' });
    expect((await h.store.approvals.get(approvalId))!.status).toBe('pending');
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => [a.actor, a.outcome])).toEqual([
      ['slack:U_STRANGER', 'forbidden'],
      ['bob', 'forbidden'],
    ]);
    // An approver may decide anyone's run from Slack.
    expect((await click(posted, 'longhaul_reject', 'U_CAROL')).status).toBe(200);
    await h.waitForStatus(id, 'completed');
    expect((await h.store.approvals.get(approvalId))).toMatchObject({ status: 'rejected', decidedBy: 'carol', channel: 'slack' });
  });

  it('maps a Slack user by confirmed email, and the decision names both the Longhaul user and the Slack account', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[by-email]');
    expect((await click(posted, 'longhaul_approve', 'U_DAVE')).status).toBe(200);
    await h.waitForStatus(id, 'completed');
    expect(await h.store.approvals.get(approvalId)).toMatchObject({ status: 'approved', decidedBy: 'dave', channel: 'slack', slackUser: 'U_DAVE' });
    const decided = await h.waitForEvent(id, 'approval.decided');
    expect(decided.data).toMatchObject({ approvalId, decision: 'approved', by: 'dave', channel: 'slack', slackUser: 'U_DAVE' });
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => [a.actor, a.slack_user, a.outcome])).toEqual([['dave', 'U_DAVE', 'accepted']]);
    expect(slack.callsTo('users.info').some((c) => c.args.user === 'U_DAVE')).toBe(true);
  });

  it('names the Slack account of an explicitly mapped decider too, and of a decision made elsewhere none', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[explicit-both]');
    expect((await click(posted, 'longhaul_reject', 'U_CAROL')).status).toBe(200);
    await h.waitForStatus(id, 'completed');
    expect((await h.waitForEvent(id, 'approval.decided')).data).toMatchObject({ by: 'carol', slackUser: 'U_CAROL' });
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => [a.actor, a.slack_user])).toEqual([['carol', 'U_CAROL']]);
    const web = await runAwaitingApproval('[web-none]');
    await h.request('POST', `/api/runs/${web.id}/approvals/${web.approvalId}`, { body: { decision: 'reject' } });
    expect((await h.waitForEvent(web.id, 'approval.decided')).data).not.toHaveProperty('slackUser');
  });

  it('refuses Slack users with no confirmed email of exactly one Longhaul user, and a matched user who may not decide', async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[email-refusals]');
    for (const who of ['U_ERIN', 'U_TWIN', 'U_GONE']) {
      expect((await click(posted, 'longhaul_approve', who)).status).toBe(200);
      await waitFor(() => ephemeralsTo(who).some((c) => /not linked to a Longhaul user/.test(c.args.text)), { what: `the reply to ${who}` });
    }
    // frank is matched by email but is no approver and does not own the run.
    expect((await click(posted, 'longhaul_approve', 'U_FRANK')).status).toBe(200);
    await waitFor(() => ephemeralsTo('U_FRANK').some((c) => /may not decide approvals on this run/.test(c.args.text)), { what: "frank's reply" });
    expect((await h.store.approvals.get(approvalId))!.status).toBe('pending');
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => [a.actor, a.slack_user, a.outcome])).toEqual([
      ['slack:U_ERIN', null, 'forbidden'],
      ['slack:U_TWIN', null, 'forbidden'],
      ['slack:U_GONE', null, 'forbidden'],
      ['frank', 'U_FRANK', 'forbidden'],
    ]);
    expect((await h.events(id)).some((e) => e.type === 'approval.decided')).toBe(false);
    await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision: 'reject' } });
    await h.waitForStatus(id, 'completed');
  });

  it("lets a team's approver decide its run from Slack and refuses another team's approver and a legacy approver, deciding nothing", async () => {
    const { id, approvalId, posted } = await runAwaitingApproval('[team-run]', { team: 'payments' }, PIA);
    // hank approves billing's runs, carol personal runs (APPROVERS): neither may decide a payments run.
    for (const who of ['U_HANK', 'U_CAROL']) {
      expect((await click(posted, 'longhaul_approve', who)).status).toBe(200);
      await waitFor(() => ephemeralsTo(who).some((c) => /may not decide approvals on this run/.test(c.args.text) && c.args.channel === PAYMENTS_CHANNEL), { what: `the refusal to ${who}` });
    }
    expect((await h.store.approvals.get(approvalId))!.status).toBe('pending');
    expect((await h.events(id)).some((e) => e.type === 'approval.decided')).toBe(false);
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => [a.actor, a.outcome])).toEqual([
      ['hank', 'forbidden'],
      ['carol', 'forbidden'],
    ]);
    // gina approves payments' runs.
    expect((await click(posted, 'longhaul_approve', 'U_GINA')).status).toBe(200);
    await h.waitForStatus(id, 'completed', { token: PIA });
    expect(await h.store.approvals.get(approvalId)).toMatchObject({ status: 'approved', decidedBy: 'gina', channel: 'slack', slackUser: 'U_GINA' });
    expect((await h.waitForEvent(id, 'approval.decided')).data).toMatchObject({ by: 'gina', slackUser: 'U_GINA' });
  });

  it("posts a team run's request to its team's channel (SLACK_TEAM_CHANNELS); other teams and personal runs to SLACK_CHANNEL", async () => {
    const payments = await runAwaitingApproval('[team-channel]', { team: 'payments' }, PIA);
    expect(payments.posted.args.channel).toBe(PAYMENTS_CHANNEL);
    const billing = await runAwaitingApproval('[no-team-channel]', { team: 'billing' }, QUIN);
    expect(billing.posted.args.channel).toBe(CHANNEL);
    const personal = await runAwaitingApproval('[personal-channel]');
    expect(personal.posted.args.channel).toBe(CHANNEL);
    // The message's later updates edit it where it was posted.
    await h.request('POST', `/api/runs/${payments.id}/approvals/${payments.approvalId}`, { body: { decision: 'reject' }, token: PIA });
    await waitFor(() => slack.callsTo('chat.update').some((c) => c.args.channel === PAYMENTS_CHANNEL && JSON.stringify(c.args.blocks).includes(payments.approvalId)), {
      what: 'the update in the payments channel',
    });
    // Their owners reject their own (SELF_APPROVAL), so no run is left waiting.
    for (const [run, token] of [[billing, QUIN], [personal, ALICE]] as const) {
      expect((await h.request('POST', `/api/runs/${run.id}/approvals/${run.approvalId}`, { body: { decision: 'reject' }, token })).status).toBe(200);
    }
  });

  it('updates the message when the approval expires', async () => {
    const { id, approvalId } = await runAwaitingApproval('[slack-expire]', { approvalTimeoutSec: 2 });
    await h.waitForEvent(id, 'approval.expired');
    await waitFor(() => slack.callsTo('chat.update').some((c) => JSON.stringify(c.args.blocks).includes(approvalId) && JSON.stringify(c.args.blocks).includes('*Expired*')), {
      what: 'the Slack message to show the expiry',
    });
  });
});
