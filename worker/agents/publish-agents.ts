/**
 * What a worker tells the database about its agents, so the API (which never imports agent code) knows
 * them: at start each served agent's version data, and that this process serves them; then a beat every
 * AGENT_WORKER_BEAT_SEC while it runs; and, when it stops, that it no longer does. A worker that dies
 * without withdrawing stops counting once its beats are AGENT_WORKER_LIVE_SEC old.
 */
import { AGENT_WORKER_BEAT_SEC } from '../../contract/agents';
import type { AgentCatalog } from '../../activities/agents/agent-catalog';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';

export interface PublishedAgents {
  /** Stops beating and says this process serves nothing any more. Never throws (a failure is logged). */
  withdraw(): Promise<void>;
}

export async function publishAgents(opts: { store: Store; identity: string; agents: AgentCatalog; logger: Logger; beatMs?: number }): Promise<PublishedAgents> {
  const { store, identity, logger } = opts;
  const served = opts.agents.all();
  for (const agent of served) await store.agents.publishVersion(agent.name, agent.version, agent.data);
  await store.agents.serve(
    identity,
    served.map((a) => ({ agent: a.name, version: a.version })),
  );
  logger.info({ agents: served.map((a) => `${a.name}@${a.version}`) }, 'serving agents');
  const beat = setInterval(() => {
    // A missed beat is not fatal: the next one may land before the worker stops counting as live.
    store.agents.beat(identity).catch((err: unknown) => logger.warn({ err }, 'could not tell the database this worker still serves its agents'));
  }, opts.beatMs ?? AGENT_WORKER_BEAT_SEC * 1000);
  beat.unref();
  let withdrawn: Promise<void> | undefined;
  return {
    withdraw: () =>
      (withdrawn ??= (async () => {
        clearInterval(beat);
        try {
          await store.agents.withdraw(identity);
        } catch (err) {
          logger.warn({ err }, 'could not withdraw this worker’s agents: they stop counting once its beats are old');
        }
      })()),
  };
}
