/**
 * The approval check of the worker that runs a tool call. The run asks for approvals by the risk the
 * worker that made the model call saw, and by the run's own policy; workers differ (an MCP server down
 * at one worker's start, a deploy in progress, a floor raised since the run began), so the worker about
 * to take the effect decides again by its own definition of the tool and the policy it enforces — the
 * stricter of the run's and this server's `MIN_APPROVALS` — and runs the call only when the database,
 * the one authority on decisions, holds an approval of exactly this call.
 */
import { needsApproval, riskCovers, stricterPolicy, type ApprovalKind, type ApprovalPolicy, type Risk } from '../../contract/run';
import type { Store } from '../../shared/store';
import { toolCallHash } from '../idempotency-keys';

/** Runs whose policy this worker remembers: a run's policy never changes once it is created. */
const REMEMBERED_RUNS = 1000;

export interface ToolCallToCheck {
  runId: string;
  turn: number;
  toolUseId: string;
  name: string;
  input: unknown;
}

export function createApprovalGate(store: Store, floor: ApprovalPolicy) {
  const policies = new Map<string, ApprovalPolicy>();

  /** The policy this worker enforces on the run: its own, raised to the floor. A run it cannot find gets `all`. */
  async function policyFor(runId: string): Promise<ApprovalPolicy> {
    let own = policies.get(runId);
    if (!own) {
      own = (await store.runs.get(runId))?.approvals ?? 'all';
      if (policies.size >= REMEMBERED_RUNS) policies.delete(policies.keys().next().value!);
      policies.set(runId, own);
    }
    return stricterPolicy(own, floor);
  }

  /**
   * The approved decisions of `kind` recorded for exactly this call (same turn, tool and input). `risk`: this worker's
   * reading of the call; an approval whose approver was shown a lesser risk (another worker read the tool more
   * leniently) does not cover it, and the run asks again with this reading.
   */
  async function decisionsFor(call: ToolCallToCheck, kind: ApprovalKind, risk?: Risk) {
    const hash = toolCallHash(call.name, call.input);
    const decisions = await store.approvals.approvedForToolCall(call.runId, call.toolUseId);
    return decisions.filter((a) => a.kind === kind && a.turn === call.turn && a.tool === call.name && a.inputHash === hash && (risk === undefined || riskCovers(a.risk, risk)));
  }

  /** Whether an approved decision of `kind` is recorded for exactly this call (and, given `risk`, shown at least as risky). */
  async function approved(call: ToolCallToCheck, kind: ApprovalKind, risk?: Risk): Promise<boolean> {
    return (await decisionsFor(call, kind, risk)).length > 0;
  }

  /**
   * Spends one approved, unspent decision of `kind` for exactly this call; false when there is none left.
   * A re-run of a call in doubt takes one: if that attempt is cut off too, Temporal's retry finds the call in
   * doubt again and no approval to spend, so it goes back to a human rather than re-sending on the old word.
   */
  async function spend(call: ToolCallToCheck, kind: ApprovalKind): Promise<boolean> {
    for (const decision of await decisionsFor(call, kind)) {
      if (await store.approvals.use(decision.id)) return true;
    }
    return false;
  }

  /**
   * The policy enforced, and whether this call may run without a human (else: the approval it lacks). `override`:
   * the policy the run's agent version sets for this tool (already raised to the floor, see RunAgents.policyOf),
   * which decides this call instead of the run's own, as the workflow decides it (`call.policy ?? input.approvals`).
   */
  async function check(call: ToolCallToCheck, risk: Risk, override?: ApprovalPolicy): Promise<{ policy: ApprovalPolicy; allowed: boolean }> {
    const policy = override ? stricterPolicy(override, floor) : await policyFor(call.runId);
    if (!needsApproval(policy, risk)) return { policy, allowed: true };
    return { policy, allowed: await approved(call, 'tool', risk) };
  }

  return { check, approved, spend, policyFor };
}

export type ApprovalGate = ReturnType<typeof createApprovalGate>;
