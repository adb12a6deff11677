/**
 * The money and steps of a run tree (a run and its sub-agents' runs), as one set of books: what each run of
 * the tree has spent and taken below it, what its calls in flight may still cost, and what its running
 * children hold — so a call, or a new child, is allowed only if it fits under the caps of its run and of
 * every ancestor. Pure: the store reads the rows (under the tree's lock) and this decides.
 *
 * One rule for counting (a run counts its own calls plus everything below it):
 *   committed(A) = recorded spend of A's subtree + worst-case cost of its calls in flight
 *   held(c)      = what a running child c may still spend: its cost cap less committed(c) (its reservation)
 *   room(A)      = A's cost cap − committed(A) − Σ held(c) over A's running children
 * A call of run R fits when its worst case fits in room(R) and, for each ancestor A, in room(A) not counting
 * the hold of the child on R's path (that hold is the room this call was given). Steps likewise, with no holds:
 * the model calls taken by A's subtree, plus those in flight, stay within A's maxSteps.
 */
import type { TreeLimit } from '../../contract/run';

export interface TreeNode {
  id: string;
  parentRunId: string | null;
  maxCostUsd: number;
  maxSteps: number;
  /** Recorded spend of the run's own calls. */
  costUsd: number;
  /** Model turns the run has taken. */
  steps: number;
  /** Ended (completed, failed, cancelled): holds nothing more. */
  ended: boolean;
}

/** A call admitted and not yet settled: its worst-case cost. */
export interface InFlightCall {
  key: string;
  runId: string;
  costUsd: number;
}

export interface TreeRoom {
  /** What a new call (or a new child) may cost at most. */
  costUsd: number;
  /** Model calls the run may still take. */
  steps: number;
}

export interface TreeRefusal {
  limit: TreeLimit;
  /** The cap at stake (USD or steps). */
  value: number;
  message: string;
}

const usd = (n: number): string => `$${Math.max(0, n).toFixed(4)}`;

export class TreeBooks {
  private readonly nodes = new Map<string, TreeNode>();
  private readonly children = new Map<string, TreeNode[]>();
  private readonly inFlight = new Map<string, { costUsd: number; calls: number }>();
  private readonly committedMemo = new Map<string, { costUsd: number; steps: number }>();

  /** `except`: a call's own key, whose earlier reservation (an attempt before this one) is not counted twice. */
  constructor(nodes: TreeNode[], calls: InFlightCall[], except?: string) {
    for (const n of nodes) {
      this.nodes.set(n.id, n);
      if (n.parentRunId === null) continue;
      const siblings = this.children.get(n.parentRunId) ?? [];
      siblings.push(n);
      this.children.set(n.parentRunId, siblings);
    }
    for (const c of calls) {
      if (c.key === except) continue;
      const f = this.inFlight.get(c.runId) ?? { costUsd: 0, calls: 0 };
      this.inFlight.set(c.runId, { costUsd: f.costUsd + c.costUsd, calls: f.calls + 1 });
    }
  }

  /** Spend and steps of the run's subtree, recorded and in flight. */
  committed(id: string): { costUsd: number; steps: number } {
    const known = this.committedMemo.get(id);
    if (known) return known;
    const node = this.nodes.get(id);
    const flying = this.inFlight.get(id);
    let costUsd = (node?.costUsd ?? 0) + (flying?.costUsd ?? 0);
    let steps = (node?.steps ?? 0) + (flying?.calls ?? 0);
    for (const child of this.children.get(id) ?? []) {
      const below = this.committed(child.id);
      costUsd += below.costUsd;
      steps += below.steps;
    }
    const total = { costUsd, steps };
    this.committedMemo.set(id, total);
    return total;
  }

  /** What a running child may still spend of its own cap. */
  held(child: TreeNode): number {
    return child.ended ? 0 : Math.max(0, child.maxCostUsd - this.committed(child.id).costUsd);
  }

  /** The run's own room, not counting the hold of `exceptChild`. */
  private roomAt(node: TreeNode, exceptChild?: string): TreeRoom {
    const committed = this.committed(node.id);
    const holds = (this.children.get(node.id) ?? []).filter((c) => c.id !== exceptChild).reduce((sum, c) => sum + this.held(c), 0);
    return { costUsd: node.maxCostUsd - committed.costUsd - holds, steps: node.maxSteps - committed.steps };
  }

  /** The run and its ancestors, the run first. */
  private path(id: string): TreeNode[] {
    const path: TreeNode[] = [];
    for (let node = this.nodes.get(id); node; node = node.parentRunId === null ? undefined : this.nodes.get(node.parentRunId)) {
      if (path.includes(node)) break; // never loops, whatever the rows say
      path.push(node);
    }
    return path;
  }

  /** What a call of the run (or a new child of it) may take under every cap above it: the least room on its path. */
  roomFor(id: string): TreeRoom {
    let room: TreeRoom = { costUsd: Infinity, steps: Infinity };
    let below: string | undefined;
    for (const node of this.path(id)) {
      const here = this.roomAt(node, below);
      room = { costUsd: Math.min(room.costUsd, here.costUsd), steps: Math.min(room.steps, here.steps) };
      below = node.id;
    }
    return room;
  }

  /** Why a call of the run that may cost up to `costUsd` must not be made, or null when it fits. */
  refusal(id: string, costUsd: number): TreeRefusal | null {
    let below: string | undefined;
    for (const node of this.path(id)) {
      const room = this.roomAt(node, below);
      const whose = node.id === id ? 'this run' : `run ${node.id} above it`;
      if (room.steps < 1) {
        return { limit: 'maxSteps', value: node.maxSteps, message: `the ${node.maxSteps}-step limit of ${whose} is taken by its run tree's model calls` };
      }
      if (costUsd > room.costUsd) {
        return {
          limit: 'maxCostUsd',
          value: node.maxCostUsd,
          message: `a model call that may cost up to ${usd(costUsd)} does not fit in the ${usd(room.costUsd)} left of the ${usd(node.maxCostUsd)} cost limit of ${whose} (its run tree's spend counted): refused before it was made`,
        };
      }
      below = node.id;
    }
    return null;
  }
}
