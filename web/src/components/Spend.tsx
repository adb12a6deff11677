import { formatCost, formatTokens } from '../format';
import type { RunEvent, RunView } from '../types';

type Turn = { turn: number; at: string; input: number; cached: number; output: number; costUsd: number };

/** Each model turn's tokens and cost, from the run's `llm.message` events (a turn retried after a relay counts once). */
export function turnsOf(events: RunEvent[]): Turn[] {
  const byTurn = new Map<number, Turn>();
  for (const e of events) {
    if (e.type !== 'llm.message') continue;
    const u = e.data.usage;
    byTurn.set(e.data.turn, {
      turn: e.data.turn,
      at: e.at,
      input: u.inputTokens + (u.cacheWriteTokens ?? 0),
      cached: u.cacheReadTokens ?? 0,
      output: u.outputTokens,
      costUsd: u.costUsd,
    });
  }
  return [...byTurn.values()].sort((a, b) => a.turn - b.turn);
}

/** Cost so far as a line over the turns, against the run's cap when the cap is in sight. */
function Sparkline({ turns, capUsd }: { turns: Turn[]; capUsd: number }) {
  const W = 240;
  const H = 40;
  let sum = 0;
  const cumulative = turns.map((t) => (sum += t.costUsd));
  const top = Math.max(sum, 1e-9, sum > capUsd / 4 ? capUsd : 0);
  const x = (i: number) => (turns.length <= 1 ? W : (i / (turns.length - 1)) * W);
  const y = (v: number) => H - 2 - (v / top) * (H - 4);
  const points = cumulative.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Cost over ${turns.length} turns, ${formatCost(sum)} in all`} data-testid="sparkline">
      {top === capUsd && <line x1={0} x2={W} y1={y(capUsd)} y2={y(capUsd)} className="sparkline-cap" />}
      <polyline points={turns.length === 1 ? `0,${y(cumulative[0]!)} ${points}` : points} className="sparkline-line" fill="none" />
    </svg>
  );
}

/** Money: per-turn tokens and cost, cost over time, the run's cap and the owner's daily budget. */
export function Spend({ run, events }: { run: RunView; events: RunEvent[] }) {
  const turns = turnsOf(events);
  return (
    <details className="spend" data-testid="spend">
      <summary>
        Spend: {formatCost(run.usage.costUsd)} of the run's {formatCost(run.limits.maxCostUsd)} cap
        {run.budget && (
          <span data-testid="budget">
            {' '}
            · today {formatCost(run.budget.spentTodayUsd)} of a {formatCost(run.budget.dailyUsd)} daily budget
          </span>
        )}
      </summary>
      {turns.length > 0 && <Sparkline turns={turns} capUsd={run.limits.maxCostUsd} />}
      <table className="turns" data-testid="turns-table">
        <thead>
          <tr>
            <th scope="col">Turn</th>
            <th scope="col">Input</th>
            <th scope="col">Cached</th>
            <th scope="col">Output</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {turns.map((t) => (
            <tr key={t.turn} data-turn={t.turn}>
              <td>{t.turn}</td>
              <td>{formatTokens(t.input)}</td>
              <td>{formatTokens(t.cached)}</td>
              <td>{formatTokens(t.output)}</td>
              <td>{formatCost(t.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
