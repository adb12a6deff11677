/**
 * A run's timeline in the page: events kept once each (by seq, in order) plus the text the model is
 * streaming right now, turned into the entries the run page shows. Pure functions, no React.
 */
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
      const ended = e.type === 'llm.message' && state.stream && state.stream.turn <= Number(e.data.turn);
      return { events, lastSeq: Math.max(state.lastSeq, e.seq), stream: ended ? null : state.stream };
    }
    case 'delta': {
      if (state.events.some((x) => x.type === 'llm.message' && Number(x.data.turn) === msg.turn)) return state; // already final
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
  status: 'requested' | 'running' | 'done' | 'failed' | 'skipped';
  output: string | null;
  bytes: number | null;
  truncated: boolean;
}

export type Entry =
  | { kind: 'assistant'; key: string; seq: number | null; turn: number; text: string; streaming: boolean; tools: ToolCallView[] }
  | { kind: 'approval'; key: string; seq: number; approvalId: string; tool: string | null; input: unknown; risk: string | null; reason: string; expiresAt: string; outcome: { decision: string; by: string | null; comment: string | null } | null }
  | { kind: 'question'; key: string; seq: number; requestId: string; question: string; expiresAt: string; answer: { text: string | null; by: string | null } | null; expired: boolean }
  | { kind: 'note'; key: string; seq: number; tone: 'info' | 'warn' | 'error' | 'success'; text: string };

interface ToolCallData {
  id: string;
  name: string;
  input: unknown;
  risk: string;
}

export function entries(state: TimelineState): Entry[] {
  const out: Entry[] = [];
  const tools = new Map<string, ToolCallView>();
  const approvals = new Map<string, Extract<Entry, { kind: 'approval' }>>();
  const questions = new Map<string, Extract<Entry, { kind: 'question' }>>();

  for (const e of state.events) {
    const d = e.data as Record<string, any>;
    switch (e.type) {
      case 'run.queued':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Queued: ${d.goal}` });
        break;
      case 'run.started':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Started with ${d.model}` });
        break;
      case 'llm.message': {
        const views: ToolCallView[] = ((d.toolCalls ?? []) as ToolCallData[]).map((c) => ({
          id: c.id,
          name: c.name,
          input: c.input,
          risk: c.risk,
          status: 'requested',
          output: null,
          bytes: null,
          truncated: false,
        }));
        for (const v of views) tools.set(v.id, v);
        out.push({ kind: 'assistant', key: `m${d.turn}`, seq: e.seq, turn: Number(d.turn), text: String(d.text ?? ''), streaming: false, tools: views });
        break;
      }
      case 'llm.retry':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `Retrying the model call of turn ${d.turn} (attempt ${d.attempt})` });
        break;
      case 'tool.started': {
        const t = tools.get(d.toolUseId);
        if (t) t.status = 'running';
        break;
      }
      case 'tool.completed':
      case 'tool.failed': {
        const t = tools.get(d.toolUseId);
        if (t) {
          t.status = e.type === 'tool.completed' ? 'done' : d.skipped ? 'skipped' : 'failed';
          t.output = String(e.type === 'tool.completed' ? d.output : d.error);
          t.bytes = typeof d.bytes === 'number' ? d.bytes : null;
          t.truncated = Boolean(d.truncated);
        }
        break;
      }
      case 'approval.requested': {
        const entry = {
          kind: 'approval' as const,
          key: `a${d.approvalId}`,
          seq: e.seq,
          approvalId: d.approvalId,
          tool: d.tool,
          input: d.input,
          risk: d.risk,
          reason: d.reason,
          expiresAt: d.expiresAt,
          outcome: null,
        };
        approvals.set(d.approvalId, entry);
        out.push(entry);
        break;
      }
      case 'approval.decided':
      case 'approval.expired': {
        const a = approvals.get(d.approvalId);
        if (a) a.outcome = e.type === 'approval.expired' ? { decision: 'expired', by: null, comment: null } : { decision: d.decision, by: d.by, comment: d.comment };
        break;
      }
      case 'input.requested': {
        const q = { kind: 'question' as const, key: `q${d.requestId}`, seq: e.seq, requestId: d.requestId, question: d.question, expiresAt: d.expiresAt, answer: null, expired: false };
        questions.set(d.requestId, q);
        out.push(q);
        break;
      }
      case 'input.received':
      case 'input.expired': {
        const q = questions.get(d.requestId);
        if (q) {
          if (e.type === 'input.received') q.answer = { text: d.text, by: d.by };
          else q.expired = true;
        }
        break;
      }
      case 'run.paused':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Paused by ${d.by}${d.reason && d.reason !== 'paused on request' ? `: ${d.reason}` : ''}` });
        break;
      case 'run.resumed':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Resumed by ${d.by}` });
        break;
      case 'run.handoff':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'info', text: `Handed off to segment ${d.segment} with a ${d.summaryChars}-character summary` });
        break;
      case 'run.stalled':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `No progress since ${new Date(d.lastProgressAt).toLocaleString()}` });
        break;
      case 'limit.exceeded':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: `Limit reached: ${d.limit} (${d.value})` });
        break;
      case 'run.completed':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'success', text: `Completed after ${d.turns} turns` });
        break;
      case 'run.failed':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'error', text: `Failed: ${d.error?.message ?? 'unknown error'} (${d.error?.code ?? 'error'})` });
        break;
      case 'run.cancelled':
        out.push({ kind: 'note', key: `n${e.seq}`, seq: e.seq, tone: 'warn', text: d.reason ? `Stopped: ${d.reason}` : 'Cancelled' });
        break;
    }
  }
  if (state.stream && !out.some((x) => x.kind === 'assistant' && x.turn === state.stream!.turn)) {
    out.push({ kind: 'assistant', key: `m${state.stream.turn}`, seq: null, turn: state.stream.turn, text: state.stream.text, streaming: true, tools: [] });
  }
  return out;
}
