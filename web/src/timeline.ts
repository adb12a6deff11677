/**
 * A run's timeline in the page: events kept once each (by seq, in order) plus the text the model is
 * streaming right now, turned into the entries the run page shows. Pure functions, no React.
 */
import { capacityLimitWords, shortVersion } from './format';
import { isRunEnding } from '../../contract/events';
import type { RunEvent, ServerMessage } from './types';

export interface TimelineState {
  /** Events in seq order, each once. */
  events: RunEvent[];
  lastSeq: number;
  stream: { turn: number; text: string } | null;
}

export const emptyTimeline: TimelineState = { events: [], lastSeq: 0, stream: null };

export function applyMessage(state: TimelineState, msg: ServerMessage): TimelineState {
  switch (msg.type) {
    case 'event': {
      const e = msg.event;
      if (state.events.some((x) => x.seq === e.seq)) return state; // already have it
      const events = [...state.events, e].sort((a, b) => a.seq - b.seq);
      const ended = e.type === 'llm.message' && state.stream && state.stream.turn <= e.data.turn;
      return { events, lastSeq: Math.max(state.lastSeq, e.seq), stream: ended ? null : state.stream };
    }
    case 'delta': {
      if (state.events.some((x) => x.type === 'llm.message' && x.data.turn === msg.turn)) return state; // already final
      const current = state.stream && state.stream.turn === msg.turn ? state.stream.text : '';
      if (msg.offset > current.length) return state; // cannot place it; the final message will come
      return { ...state, stream: { turn: msg.turn, text: current.slice(0, msg.offset) + msg.text } };
    }
    case 'delta.reset':
      return state.stream?.turn === msg.turn ? { ...state, stream: { turn: msg.turn, text: '' } } : state;
    default:
      return state;
  }
}

export interface ToolCallView {
  id: string;
  name: string;
  input: unknown;
  risk: string;
  status: 'requested' | 'running' | 'done' | 'failed' | 'skipped' | 'stopped';
  output: string | null;
  bytes: number | null;
  truncated: boolean;
  /** When it started and ended (ISO), for its duration. */
  startedAt: string | null;
  endedAt: string | null;
}

/** Silence this long between two events is shown, with what it was. */
export const GAP_MS = 10_000;

/** `at`: when it happened (ISO); null for text still streaming. `ms` (assistant): how long the model took. */
export type Entry = { at: string | null } & (
  | { kind: 'assistant'; key: string; seq: number | null; turn: number; text: string; streaming: boolean; tools: ToolCallView[]; ms: number | null }
  | { kind: 'approval'; key: string; seq: number; approvalId: string; tool: string | null; input: unknown; risk: string | null; reason: string; expiresAt: string; outcome: { decision: 'approved' | 'rejected' | 'expired' | 'closed'; by: string | null; comment: string | null } | null }
  | { kind: 'question'; key: string; seq: number; requestId: string; question: string; expiresAt: string; answer: { text: string | null; by: string | null } | null; expired: boolean; /** The run ended before it was answered. */ closed: boolean }
  | { kind: 'note'; key: string; seq: number; tone: 'info' | 'warn' | 'error' | 'success'; text: string }
  | { kind: 'user'; key: string; seq: number; by: string; text: string }
  | { kind: 'gap'; key: string; seq: number; ms: number; cause: string }
  | SubagentEntry
);

/** A delegation to a sub-agent: its child run, followed in a panel of its own. `costUsd`: the child's spend once it has ended. */
export interface SubagentEntry {
  kind: 'subagent';
  key: string;
  seq: number;
  turn: number;
  toolUseId: string;
  childRunId: string;
  agent: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  costUsd: number | null;
  error: string | null;
}

/** What a silence between two events was, from the events on either side of it. */
function gapCause(before: RunEvent, after: RunEvent): string {
  if (after.type === 'llm.retry' && after.data.error?.code === 'interrupted') return 'a worker stopped mid-step; the step was retried elsewhere';
  if (after.type === 'workspace.restored') return 'the workspace was hibernated, then restored';
  switch (before.type) {
    case 'approval.requested':
      return 'waiting for an approval';
    case 'input.requested':
      return 'waiting for an answer';
    case 'model.throttled':
      return 'waiting for model capacity';
    case 'run.paused':
      return 'paused';
    case 'llm.retry':
      return 'waiting to retry the model call';
    case 'run.queued':
      return 'queued for a slot';
    default:
      return after.type === 'llm.message' ? 'the model was working' : after.type === 'tool.completed' || after.type === 'tool.failed' ? 'the tool was working' : 'no activity';
  }
}

export function entries(state: TimelineState): Entry[] {
  const out: Entry[] = [];
  const tools = new Map<string, ToolCallView>();
  const approvals = new Map<string, Extract<Entry, { kind: 'approval' }>>();
  const questions = new Map<string, Extract<Entry, { kind: 'question' }>>();
  const delegations = new Map<string, SubagentEntry & { at: string }>();

  let previous: RunEvent | undefined;
  let ended = false;
  for (const e of state.events) {
    if (previous && Date.parse(e.at) - Date.parse(previous.at) >= GAP_MS) {
      out.push({ kind: 'gap', at: previous.at, key: `g${e.seq}`, seq: e.seq, ms: Date.parse(e.at) - Date.parse(previous.at), cause: gapCause(previous, e) });
    }
    if (isRunEnding(e.type)) ended = true;
    if (e.type === 'run.started' || e.type === 'user.message') ended = false; // a follow-up continued it
    // The `switch` below reads `previous` as the event before this one; it moves on after.
    handle(e);
    previous = e;
  }
  // Once the run has ended, nothing in it is still running or waiting.
  if (ended) {
    for (const t of tools.values()) if (t.status === 'requested' || t.status === 'running') t.status = 'stopped';
    for (const a of approvals.values()) a.outcome ??= { decision: 'closed', by: null, comment: null };
    for (const q of questions.values()) if (!q.answer && !q.expired) q.closed = true;
  }
  if (state.stream && !ended && !out.some((x) => x.kind === 'assistant' && x.turn === state.stream!.turn)) {
    out.push({ kind: 'assistant', at: null, key: `m${state.stream.turn}`, seq: null, turn: state.stream.turn, text: state.stream.text, streaming: true, tools: [], ms: null });
  }
  return out;

  function handle(e: RunEvent): void {
    switch (e.type) {
      case 'run.queued':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Queued: ${e.data.goal}` });
        break;
      case 'run.started':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Started with ${e.data.model}` });
        break;
      case 'llm.message': {
        const views: ToolCallView[] = (e.data.toolCalls ?? []).map((c) => ({
          id: c.id,
          name: c.name,
          input: c.input,
          risk: c.risk,
          status: 'requested',
          output: null,
          bytes: null,
          truncated: false,
          startedAt: null,
          endedAt: null,
        }));
        for (const v of views) tools.set(v.id, v);
        const ms = previous ? Date.parse(e.at) - Date.parse(previous.at) : null;
        out.push({ kind: 'assistant', at: e.at, key: `m${e.data.turn}`, seq: e.seq, turn: e.data.turn, text: e.data.text, streaming: false, tools: views, ms });
        break;
      }
      case 'llm.retry': {
        const why = e.data.error ? `: ${e.data.error.status !== undefined ? `${e.data.error.status} ` : ''}${e.data.error.code.replace(/_/g, ' ')} — ${e.data.error.message}` : '';
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `Retrying the model call of turn ${e.data.turn} (attempt ${e.data.attempt})${why}` });
        break;
      }
      case 'model.throttled':
        out.push({
          kind: 'note',
          at: e.at,
          key: `n${e.seq}`,
          seq: e.seq,
          tone: 'info',
          text: `Waiting ${Math.max(1, Math.round(e.data.waitMs / 1000))}s for model capacity (${capacityLimitWords(e.data.limit)}) before turn ${e.data.turn}`,
        });
        break;
      case 'tool.started': {
        const t = tools.get(e.data.toolUseId);
        if (t) {
          t.status = 'running';
          t.startedAt = e.at;
        }
        break;
      }
      case 'tool.completed':
      case 'tool.failed': {
        const t = tools.get(e.data.toolUseId);
        if (t) {
          t.status = e.type === 'tool.completed' ? 'done' : e.data.skipped ? 'skipped' : 'failed';
          t.output = String(e.type === 'tool.completed' ? e.data.output : e.data.error);
          t.bytes = typeof e.data.bytes === 'number' ? e.data.bytes : null;
          t.truncated = Boolean(e.data.truncated);
          t.endedAt = e.at;
        }
        break;
      }
      case 'approval.requested': {
        const entry = {
          kind: 'approval' as const,
          at: e.at,
          key: `a${e.data.approvalId}`,
          seq: e.seq,
          approvalId: e.data.approvalId,
          tool: e.data.tool,
          input: e.data.input,
          risk: e.data.risk,
          reason: e.data.reason,
          expiresAt: e.data.expiresAt,
          outcome: null,
        };
        approvals.set(e.data.approvalId, entry);
        out.push(entry);
        break;
      }
      case 'approval.decided':
      case 'approval.expired': {
        const a = approvals.get(e.data.approvalId);
        if (a) a.outcome = e.type === 'approval.expired' ? { decision: 'expired', by: null, comment: null } : { decision: e.data.decision, by: e.data.by, comment: e.data.comment };
        break;
      }
      case 'input.requested': {
        const q = { kind: 'question' as const, at: e.at, key: `q${e.data.requestId}`, seq: e.seq, requestId: e.data.requestId, question: e.data.question, expiresAt: e.data.expiresAt, answer: null, expired: false, closed: false };
        questions.set(e.data.requestId, q);
        out.push(q);
        break;
      }
      case 'input.received':
      case 'input.expired': {
        const q = questions.get(e.data.requestId);
        if (q) {
          if (e.type === 'input.received') q.answer = { text: e.data.text, by: e.data.by };
          else q.expired = true;
        }
        break;
      }
      case 'run.paused':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Paused by ${e.data.by}${e.data.reason && e.data.reason !== 'paused on request' ? `: ${e.data.reason}` : ''}` });
        break;
      case 'run.resumed':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Resumed by ${e.data.by}` });
        break;
      case 'run.upgraded':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Upgraded ${e.data.agent} from version ${shortVersion(e.data.from)} to ${shortVersion(e.data.to)} at turn ${e.data.turn}` });
        break;
      case 'run.handoff':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Handed off to segment ${e.data.segment} with a ${e.data.summaryChars}-character summary` });
        break;
      case 'run.stalled':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `No progress since ${new Date(e.data.lastProgressAt).toLocaleString()}` });
        break;
      case 'limit.exceeded':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `Limit reached: ${e.data.limit} (${e.data.value})` });
        break;
      case 'run.completed':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'success', text: `Completed after ${e.data.turns} turns` });
        break;
      case 'run.failed':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'error', text: `Failed: ${e.data.error?.message ?? 'unknown error'} (${e.data.error?.code ?? 'error'})` });
        break;
      case 'user.message':
        out.push({ kind: 'user', at: e.at, key: `u${e.data.messageId}`, seq: e.seq, by: e.data.by, text: e.data.text });
        break;
      case 'run.cancelled':
        out.push({ kind: 'note', at: e.at, key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: e.data.reason ? `Stopped: ${e.data.reason}` : 'Cancelled' });
        break;
      case 'subagent.started': {
        const d = e.data;
        const entry = { kind: 'subagent' as const, at: e.at, key: `s${d.childRunId}`, seq: e.seq, turn: d.turn, toolUseId: d.toolUseId, childRunId: d.childRunId, agent: d.agent, status: 'running' as const, costUsd: null, error: null };
        delegations.set(d.childRunId, entry);
        out.push(entry);
        break;
      }
      case 'subagent.completed':
      case 'subagent.failed': {
        const entry = delegations.get(e.data.childRunId);
        if (entry) {
          entry.status = e.type === 'subagent.completed' ? 'completed' : e.data.status;
          entry.costUsd = e.data.costUsd;
          entry.error = e.type === 'subagent.failed' ? e.data.error : null;
        }
        break;
      }
    }
  }
}
