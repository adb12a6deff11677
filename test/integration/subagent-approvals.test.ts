/**
 * A sub-agent's requests for a human roll up its run tree. A real worker (the workflow and every activity, on the
 * suite's dev server and store) serves a lead agent and its sub-agents, a scripted model in process, a fake Slack
 * Web API and a webhook receiver for the root run.
 *
 * What it holds to: an approval (or question) raised in a child run shows on the parent's view (`subagentApprovals`,
 * `subagentQuestions`), in the inbox, in Slack and to the root's webhook subscribers, each labelled with the
 * sub-agent (agent, child run id, the delegating call) and its root, as are GET /api/approvals and the approval
 * itself; deciding it through the parent's id (the route
 * the parent's page uses) or from Slack resumes the child, and the parent completes; the audit names the child run; a
 * run outside the tree cannot reach it; the owner's direct message names the sub-agent; a child's approval expires as
 * any other, and a late decision through the parent is refused (and audited on the child); a pause of the parent pauses the child at its next step boundary and a resume
 * of the parent lets both finish.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { AgentDefinition } from '../../activities/agents/agent-definition';
import { createLonghaulClient } from '../../client';
import { loadAgentCatalog } from '../../activities/agents/load-agents';
import { defineTool } from '../../activities/tools/tool';
import { LOCAL_USER } from '../../api/auth';
import type { SubagentOrigin } from '../../contract/api';
import { agentTaskQueue } from '../../contract/agents';
import { DEMO_MODEL, type RunInput, type RunStatus } from '../../contract/run';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import { runInputFor } from '../../shared/runs/run-input';
import type { RunWebhooks } from '../../shared/store/webhooks';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { builtinToolsFor, createActivityDeps } from '../../worker/activity-deps';
import { startWebhookDispatcher } from '../../worker/webhook-dispatcher';
import { workerIdentity, workerQueueName } from '../../worker/worker-queue';
import type { agentRunWorkflow } from '../../workflows/agent-run';
import { FakeSlack, type SlackCall } from '../support/fake-slack';
import { startHandBuiltWorkers } from '../support/hand-built-workers';
import { startHarness, type Harness } from '../support/harness';
import { listenLocally, type LocalServer } from '../support/http-server';
import { clickSlackButton } from '../support/slack-interactions';
import { waitFor } from '../support/wait';

const SIGNING_SECRET = 'test-signing-secret';
const WEBHOOK_SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const PUBLIC_URL = 'http://longhaul.test';

const publish = defineTool({ name: 'publish', description: 'Publishes the text.', input: z.object({}), risk: 'write', run: async () => 'published' });
/** Asks for approval of its write (its own policy), so its run waits for a human. */
const editor: AgentDefinition = { name: 'editor', description: 'Edits and publishes.', instructions: 'You are the editor.', model: DEMO_MODEL, tools: [publish], approvals: 'write' };
/** Asks its user a question. */
const asker: AgentDefinition = { name: 'asker', description: 'Asks.', instructions: 'You are the asker.', model: DEMO_MODEL, tools: ['ask_user'] };
const lead: AgentDefinition = { name: 'lead', description: 'Leads.', instructions: 'You are the lead.', model: DEMO_MODEL, approvals: 'none', subagents: ['editor', 'asker'] };
const AGENTS = [lead, editor, asker];

const toolResults = (req: ModelRequestRecord): string[] =>
  req.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).flatMap((b) => (b.type === 'tool_result' ? [typeof b.content === 'string' ? b.content : JSON.stringify(b.content)] : []));

async function answer(req: ModelRequestRecord): Promise<ScriptedAnswer> {
  const first = JSON.stringify(req.messages[0]);
  const answered = req.messages.length > 1;
  if (req.system === 'You are the lead.') {
    if (answered) return { text: `Handled: ${toolResults(req).join(' | ')}` };
    return first.includes('[ask]') ? { toolCalls: [{ name: 'asker', input: { task: 'ask' } }] } : { toolCalls: [{ name: 'editor', input: { task: 'publish it' } }] };
  }
  if (req.system === 'You are the editor.') return answered ? { text: 'Published.' } : { toolCalls: [{ name: 'publish', input: {} }] };
  return answered ? { text: `Colour: ${toolResults(req).join('')}` } : { toolCalls: [{ name: 'ask_user', input: { question: 'Which colour?' } }] };
}

interface Delivered {
  type: string;
  data: Record<string, unknown> & { runId: string; link: string; subagent?: SubagentOrigin };
}

describe('sub-agents: approvals and questions roll up the tree', () => {
  let h: Harness;
  const model = scriptedModel(answer);
  const slack = new FakeSlack();
  const delivered: Delivered[] = [];
  let receiver: LocalServer;
  let workers: { stop(): Promise<void> } | undefined;
  let dispatcher: { stop(): Promise<void> } | undefined;
  const catalog = (config: Harness['config']) => loadAgentCatalog({ definition: { agents: AGENTS }, config: { model: config.model, approvals: config.approvals, tools: { mcpServers: {} } }, builtinTools: builtinToolsFor(config) });

  beforeAll(async () => {
    await slack.start();
    receiver = await listenLocally((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        delivered.push(JSON.parse(body) as Delivered);
        res.writeHead(204).end();
      });
    });
    h = await startHarness({
      noWorker: true,
      env: {
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_CHANNEL: 'C_APPROVALS',
        SLACK_USERS: `U_LOCAL:${LOCAL_USER}`,
        SLACK_API_URL: slack.url,
        PUBLIC_URL,
        WEBHOOK_SECRET,
        WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
      },
    });
    const agents = catalog(h.config);
    for (const agent of agents.all()) if (agent.name !== 'default') await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
    const identity = workerIdentity();
    const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
    const deps = createActivityDeps({ config: h.config, store: h.store, bus: h.bus, logger: h.logger, modelFor: () => model, workerQueue, workerIdentity: identity, agents });
    // Each agent's queue, and the deployment's (where webhook deliveries run), as a worker process serves them.
    workers = await startHandBuiltWorkers(h.config, deps, { workflows: [h.config.temporal.taskQueue, ...AGENTS.map((a) => agentTaskQueue(h.config.temporal.taskQueue, a.name))], workerQueue });
    dispatcher = startWebhookDispatcher({ store: h.store, client: h.client, config: h.config, logger: h.logger });
  });

  afterAll(async () => {
    await dispatcher?.stop();
    await workers?.stop();
    await h?.close();
    await receiver?.stop();
    await slack.stop();
  });

  /** A root run of the lead (as the API makes one: pinned, told of its webhooks), started on its agent's queue. */
  async function startLead(goal: string, approvalTimeoutSec = 3600): Promise<string> {
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    const webhooks: RunWebhooks = { to: [{ url: `${receiver.url}/hooks`, own: true }], publicUrl: PUBLIC_URL };
    const { run } = await h.store.runs.insert({
      id,
      owner: LOCAL_USER,
      goal,
      model: DEMO_MODEL,
      approvals: 'none',
      limits: { maxSteps: 10, maxCostUsd: 5, maxDurationSec: 600 },
      agent: 'lead',
      agentVersion: catalog(h.config).get('lead')!.version,
      webhooks,
    });
    const input: RunInput = runInputFor(h.config, run, approvalTimeoutSec);
    await h.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { workflowId: id, taskQueue: agentTaskQueue(h.config.temporal.taskQueue, 'lead'), args: [input] });
    h.track(id, '[lead]');
    return id;
  }

  async function childOf(id: string, status: RunStatus) {
    let childId = '';
    await waitFor(
      async () => {
        const [child] = await h.store.runs.children(id);
        childId = child?.id ?? '';
        return child?.status === status;
      },
      { timeoutMs: 30_000, what: `the child of ${id} to be ${status}` },
    );
    for (const child of await h.store.runs.children(id)) h.track(child.id, `[${child.agent}]`);
    return (await h.store.runs.get(childId))!;
  }

  async function endOf(id: string) {
    await waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await h.store.runs.get(id))!.status), { timeoutMs: 60_000, what: `run ${id} to end` });
    return (await h.store.runs.get(id))!;
  }

  /** The label every surface carries for the lead's one child. */
  const labelOf = (child: { id: string; agent: string | null }, root: string): SubagentOrigin => ({
    runId: child.id,
    agent: child.agent,
    parentRunId: root,
    toolUseId: expect.any(String) as unknown as string,
    rootRunId: root,
    depth: 1,
  });

  it("shows a child's approval on the parent's page, in the inbox and to the root's webhooks; decided through the parent's id, it resumes the child", async () => {
    const id = await startLead('publish [page]');
    const child = await childOf(id, 'waiting_approval');
    const [approval] = await h.store.approvals.listPending({ runIds: [child.id] });
    const label = labelOf(child, id);
    expect(label.toolUseId).toBeDefined();
    expect(child.metadata).toMatchObject({ toolUseId: expect.any(String) });

    // The parent's view lists it, labelled with the sub-agent and the call.
    const view = await h.getRun(id);
    expect(view.subagentApprovals).toEqual([expect.objectContaining({ approvalId: approval!.id, kind: 'tool', tool: 'publish', risk: 'write', subagent: { ...label, toolUseId: child.metadata!.toolUseId } })]);
    expect(view.subagentQuestions).toEqual([]);
    expect(view.pendingApprovals).toEqual([]); // the parent's own: none
    // The inbox labels it with the child and its root.
    const inbox = await h.request('GET', '/api/inbox');
    expect(inbox.body.items).toContainEqual(expect.objectContaining({ kind: 'approval', id: approval!.id, runId: child.id, subagent: label }));
    // So do the approvals list and the approval itself.
    const listed = await h.request('GET', '/api/approvals');
    expect(listed.body.approvals).toContainEqual(expect.objectContaining({ approvalId: approval!.id, runId: child.id, subagent: label }));
    expect((await h.request('GET', `/api/approvals/${approval!.id}`)).body).toMatchObject({ approvalId: approval!.id, runId: child.id, subagent: label });

    // The root's webhook subscriber hears of it, labelled, with a link to the root's page.
    await waitFor(() => delivered.some((d) => d.type === 'approval.requested' && d.data.approvalId === approval!.id), { what: "the child's approval.requested at the root's webhook" });
    const requested = delivered.find((d) => d.type === 'approval.requested' && d.data.approvalId === approval!.id)!;
    expect(requested.data).toMatchObject({ runId: child.id, link: `${PUBLIC_URL}/runs/${id}`, tool: 'publish', subagent: label });
    await waitFor(() => delivered.some((d) => d.type === 'attention.needed' && d.data.requestId === approval!.id), { what: "the child's attention.needed at the root's webhook" });
    expect(delivered.find((d) => d.type === 'attention.needed' && d.data.requestId === approval!.id)!.data.subagent).toEqual(label);

    // A run outside the tree cannot reach it.
    const stranger = `run_${crypto.randomBytes(6).toString('hex')}`;
    await h.store.runs.insert({ id: stranger, owner: LOCAL_USER, goal: 'elsewhere', model: DEMO_MODEL, approvals: 'none', limits: { maxSteps: 1, maxCostUsd: 1, maxDurationSec: 60 } });
    const outside = await h.request('POST', `/api/runs/${stranger}/approvals/${approval!.id}`, { body: { decision: 'approve' } });
    expect(outside.status).toBe(404);
    expect(outside.body.error.code).toBe('approval_not_found');

    // Decided through the parent's id, as the parent's page does.
    const res = await h.request('POST', `/api/runs/${id}/approvals/${approval!.id}`, { body: { decision: 'approve' }, headers: { 'x-longhaul-client': 'web' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ approvalId: approval!.id, runId: child.id, status: 'approved', decidedBy: LOCAL_USER, channel: 'web', subagent: label });

    expect((await endOf(child.id)).status).toBe('completed');
    const parent = await endOf(id);
    expect(parent).toMatchObject({ status: 'completed', result: 'Handled: Published.' });
    // The audit names the child run, and so does the decision's event (in the child's transcript).
    expect((await h.store.approvals.auditTrail(approval!.id)).map((a) => ({ run: a.run_id, actor: a.actor, channel: a.channel, outcome: a.outcome }))).toEqual([
      { run: child.id, actor: LOCAL_USER, channel: 'web', outcome: 'accepted' },
    ]);
    const decided = (await h.store.events.list(child.id, { after: 0, limit: 1000 })).find((e) => e.type === 'approval.decided');
    expect(decided?.data).toMatchObject({ approvalId: approval!.id, decision: 'approved', by: LOCAL_USER, channel: 'web' });
    expect((await h.getRun(id)).subagentApprovals).toEqual([]);
  });

  it("posts a child's approval to Slack saying which sub-agent of which run asks; a click there resumes the child", async () => {
    const id = await startLead('publish [slack]');
    const child = await childOf(id, 'waiting_approval');
    const [approval] = await h.store.approvals.listPending({ runIds: [child.id] });
    let posted: SlackCall | undefined;
    await waitFor(() => (posted = slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? []).includes(approval!.id))) !== undefined, { what: 'the approval to be posted to Slack' });
    const blocks = JSON.stringify(posted!.args.blocks);
    expect(blocks).toContain(`*Asked by*\\nSub-agent \`editor\` (run <${PUBLIC_URL}/runs/${child.id}|${child.id}>) of run <${PUBLIC_URL}/runs/${id}|${id}>`);
    expect(posted!.args.text).toBe(`Approval needed: publish (sub-agent editor of run ${id})`);

    const res = await clickSlackButton(h.api.url, posted!, 'longhaul_approve', 'U_LOCAL', { secret: SIGNING_SECRET });
    expect(res.status).toBe(200);

    expect((await endOf(id)).status).toBe('completed');
    expect((await h.store.runs.get(child.id))!.status).toBe('completed');
    expect(await h.store.approvals.get(approval!.id)).toMatchObject({ status: 'approved', decidedBy: LOCAL_USER, channel: 'slack' });
    expect((await h.store.approvals.auditTrail(approval!.id)).map((a) => a.run_id)).toEqual([child.id]);
    // Its owner, watching nothing, was told directly which sub-agent of which run waits.
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U_LOCAL').map((c) => c.args.text)).toContainEqual(
      expect.stringMatching(new RegExp(`^The editor sub-agent \\(run ${child.id}\\) of your run ${id} is waiting for you to approve publish`)),
    );
    // The message, updated with the outcome, still says who asked.
    await waitFor(() => slack.callsTo('chat.update').some((c) => JSON.stringify(c.args.blocks).includes(approval!.id) && JSON.stringify(c.args.blocks).includes('*Approved* by')), { what: 'the Slack message to show the decision' });
    const update = slack.callsTo('chat.update').find((c) => JSON.stringify(c.args.blocks).includes(approval!.id))!;
    expect(JSON.stringify(update.args.blocks)).toContain('Sub-agent `editor`');
  });

  it("expires a child's approval as any other: rejected when its time is up, and a late decision through the parent is refused and audited on the child", async () => {
    const id = await startLead('publish [expire]', 2);
    const child = await childOf(id, 'waiting_approval');
    const [approval] = await h.store.approvals.listPending({ runIds: [child.id] });
    expect(await endOf(id)).toMatchObject({ status: 'completed', result: 'Handled: Published.' });
    expect((await h.store.events.list(child.id, { after: 0, limit: 1000 })).map((e) => e.type)).toContain('approval.expired');
    expect((await h.store.approvals.get(approval!.id))!.status).toBe('expired');

    const late = await h.request('POST', `/api/runs/${id}/approvals/${approval!.id}`, { body: { decision: 'approve' } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('approval_expired');
    // The child's own route says the same.
    expect((await h.request('POST', `/api/runs/${child.id}/approvals/${approval!.id}`, { body: { decision: 'approve' } })).body.error.code).toBe('approval_expired');
    expect((await h.store.approvals.auditTrail(approval!.id)).map((a) => [a.run_id, a.outcome])).toEqual([
      [child.id, 'expired'],
      [child.id, 'conflict'],
      [child.id, 'conflict'],
    ]);
  });

  it("shows a child's question on the parent's page and in the inbox, and an answer through the parent's id resumes the child", async () => {
    const id = await startLead('colour [ask]');
    const child = await childOf(id, 'waiting_input');
    const label = labelOf(child, id);
    const view = await h.getRun(id);
    expect(view.subagentQuestions).toEqual([expect.objectContaining({ question: 'Which colour?', subagent: label })]);
    const { requestId } = view.subagentQuestions[0] as { requestId: string };
    const inbox = await h.request('GET', '/api/inbox');
    expect(inbox.body.items).toContainEqual(expect.objectContaining({ kind: 'question', id: requestId, runId: child.id, subagent: label }));
    await waitFor(() => delivered.some((d) => d.type === 'input.requested' && d.data.requestId === requestId), { what: "the child's input.requested at the root's webhook" });
    expect(delivered.find((d) => d.type === 'input.requested' && d.data.requestId === requestId)!.data.subagent).toEqual(label);

    // Without `requestId` the parent's own (none) is meant.
    expect((await h.request('POST', `/api/runs/${id}/input`, { body: { text: 'Blue' } })).body.error.code).toBe('no_pending_question');
    // Answered through the parent with the typed client, as the parent's page could.
    const client = createLonghaulClient({ baseUrl: h.api.url });
    expect(await client.input.answer(id, 'Blue', { requestId })).toEqual({ requestId });
    expect(await endOf(id)).toMatchObject({ status: 'completed', result: 'Handled: Colour: Blue' });
  });

  it('pauses the whole tree at step boundaries, and a resume of the parent lets the tree finish', async () => {
    const id = await startLead('publish [pause]');
    const child = await childOf(id, 'waiting_approval');
    const [approval] = await h.store.approvals.listPending({ runIds: [child.id] });

    expect((await h.request('POST', `/api/runs/${id}/pause`, { body: {} })).status).toBe(202);
    // Decided by the approval's id alone: the child runs its approved call, then stops at its next step boundary.
    expect((await h.request('POST', `/api/approvals/${approval!.id}`, { body: { decision: 'approve' } })).body).toMatchObject({ runId: child.id, status: 'approved' });
    await waitFor(async () => (await h.store.runs.get(child.id))!.status === 'paused', { timeoutMs: 30_000, what: 'the child to pause' });
    const paused = (await h.store.events.list(child.id, { after: 0, limit: 1000 })).find((e) => e.type === 'run.paused');
    expect(paused?.data).toMatchObject({ by: LOCAL_USER });
    expect((await h.store.runs.get(id))!.status).not.toBe('completed');

    expect((await h.request('POST', `/api/runs/${id}/resume`, { body: {} })).status).toBe(202);
    expect(await endOf(id)).toMatchObject({ status: 'completed', result: 'Handled: Published.' });
    expect((await h.store.runs.get(child.id))!.status).toBe('completed');
    const types = (await h.store.events.list(child.id, { after: 0, limit: 1000 })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.paused', 'run.resumed', 'run.completed']));
  });
});
