/**
 * The Slack message for an approval, as Block Kit: what is being asked (run, goal, tool, input,
 * risk, expiry) and Approve / Reject buttons while pending; who decided what once settled.
 * Pure, so the worker (posting, expiry) and the API (after a click) render the same message.
 */
import type { ApprovalRecord } from '../store/approvals';
import type { SubagentOrigin } from '../../contract/api';

export const APPROVE_ACTION = 'longhaul_approve';
export const REJECT_ACTION = 'longhaul_reject';

export interface ApprovalButtonValue {
  runId: string;
  approvalId: string;
}

/** Slack mrkdwn treats &, < and > as markup; everything from agents and users is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** Characters of tool input shown in a message (a section holds 3,000; the rest says what was left out). */
export const INPUT_SHOWN_CHARS = 2500;

/**
 * The tool input as an approver must see it: in a code block that nothing in the input can close
 * (runs of backticks are broken up), and when it is too long for Slack, saying so — how much is
 * shown, the hash the approval is bound to, and where to read the whole call.
 */
function inputText(a: ApprovalRecord, runId: string, publicUrl?: string): string {
  const input = typeof a.input === 'string' ? a.input : JSON.stringify(a.input, null, 2);
  const shown = input.length <= INPUT_SHOWN_CHARS ? input : input.slice(0, INPUT_SHOWN_CHARS);
  const fenced = escapeMrkdwn(shown).replace(/`(?=`)/g, '`\u200b');
  let text = `*Input*\n\`\`\`${fenced}\`\`\``;
  if (shown.length < input.length) {
    const where = publicUrl ? `<${publicUrl.replace(/\/$/, '')}/runs/${runId}|the whole call>` : `GET /api/runs/${runId}/events`;
    text += `\n:warning: *Cut:* showing ${shown.length} of ${input.length} characters (${input.length - shown.length} more). Input hash \`${a.inputHash ?? 'n/a'}\` — read ${where} before deciding.`;
  }
  return text;
}

function slackDate(iso: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${iso}>`;
}

function title(a: ApprovalRecord): string {
  switch (a.kind) {
    case 'cost_checkpoint':
      return 'Cost checkpoint: continue this run?';
    case 'effect_in_doubt':
      return `Re-run an interrupted call: ${a.tool ?? 'tool'}?`;
    case 'segment_cap':
      return 'Segment cap reached: continue this run?';
    default:
      return `Approval needed: ${a.tool ?? 'tool call'}`;
  }
}

function outcome(a: ApprovalRecord): string {
  const when = a.decidedAt ? ` · ${slackDate(a.decidedAt)}` : '';
  const comment = a.comment ? `: “${escapeMrkdwn(cut(a.comment, 500))}”` : '';
  switch (a.status) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${escapeMrkdwn(a.decidedBy ?? 'someone')} (${a.channel ?? 'api'})${comment}${when}`;
    case 'rejected':
      return `:x: *Rejected* by ${escapeMrkdwn(a.decidedBy ?? 'someone')} (${a.channel ?? 'api'})${comment}${when}`;
    case 'expired':
      return `:hourglass: *Expired* with no decision, so it was rejected${when}`;
    default:
      return '';
  }
}

/** A run's id as a link to its page (with a public URL), else as code. */
function runRef(id: string, publicUrl?: string): string {
  return publicUrl ? `<${publicUrl.replace(/\/$/, '')}/runs/${id}|${id}>` : `\`${id}\``;
}

/** Which sub-agent of which run asks, for a request raised in a child run (`origin`). */
function askedBy(origin: SubagentOrigin, publicUrl?: string): string {
  const agent = origin.agent ? `\`${escapeMrkdwn(origin.agent)}\`` : 'a sub-agent';
  const parent = origin.parentRunId === origin.rootRunId ? '' : `, under run ${runRef(origin.parentRunId, publicUrl)}`;
  return `*Asked by*\nSub-agent ${agent} (run ${runRef(origin.runId, publicUrl)}) of run ${runRef(origin.rootRunId, publicUrl)}${parent}`;
}

/** `origin`: set when the approval was raised in a child run (a sub-agent's): the message says which, and of which run. */
export function approvalMessage(a: ApprovalRecord, run: { id: string; goal: string; owner: string }, publicUrl?: string, origin?: SubagentOrigin | null) {
  const runLink = runRef(run.id, publicUrl);
  const fields = [
    { type: 'mrkdwn', text: `*Run*\n${runLink} (${escapeMrkdwn(run.owner)})` },
    { type: 'mrkdwn', text: `*Expires*\n${slackDate(a.expiresAt)}` },
  ];
  if (a.tool) fields.push({ type: 'mrkdwn', text: `*Tool*\n\`${escapeMrkdwn(a.tool)}\`` });
  if (a.risk) fields.push({ type: 'mrkdwn', text: `*Risk*\n${a.risk}` });

  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title(a), 150) } },
    ...(origin ? [{ type: 'section', text: { type: 'mrkdwn', text: askedBy(origin, publicUrl) } }] : []),
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: `*Goal*\n${escapeMrkdwn(cut(run.goal, 500))}` } },
  ];
  if (a.reason) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Why*\n${escapeMrkdwn(cut(a.reason, 500))}` } });
  if (a.input !== null && a.input !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: inputText(a, run.id, publicUrl) } });
  if (a.status === 'pending') {
    const value = JSON.stringify({ runId: run.id, approvalId: a.id } satisfies ApprovalButtonValue);
    blocks.push({
      type: 'actions',
      block_id: `longhaul_approval_${a.id}`,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value },
        { type: 'button', action_id: REJECT_ACTION, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value },
      ],
    });
  } else {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: outcome(a) }] });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Approval \`${a.id}\` · Longhaul` }] });
  const from = origin ? `sub-agent ${escapeMrkdwn(origin.agent ?? origin.runId)} of run ${origin.rootRunId}` : `run ${run.id}`;
  const text = a.status === 'pending' ? `${title(a)} (${from})` : `${title(a)} — ${a.status}`;
  return { text, blocks };
}
