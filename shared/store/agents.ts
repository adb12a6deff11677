/**
 * Agents as the database knows them (migration 013): each version's data, stored once when a worker
 * first publishes it, and which worker processes serve which agent now. The API reads only this; it
 * never imports agent code.
 */
import { AGENT_WORKER_LIVE_SEC, type AgentData, type AgentVersion, type AgentWorker } from '../../contract/agents';
import { nowIso, parseJson, type Executor } from './executor';

/** The oldest beat that still counts a worker as live. */
export const agentWorkersLiveSince = (nowMs = Date.now()): string => new Date(nowMs - AGENT_WORKER_LIVE_SEC * 1000).toISOString();

/** How long the rows of a worker that stopped beating are kept (they stop counting as live long before). */
const STALE_WORKER_MS = 24 * 3600 * 1000;

export class AgentsRepo {
  constructor(private readonly db: Executor) {}

  /** Stores a version's data unless it is already there (a version is a hash of its data: the same name and version is the same data). */
  async publishVersion(name: string, version: string, data: AgentData): Promise<void> {
    await this.db
      .insertInto('agent_versions')
      .values({ name, version, data_json: JSON.stringify(data), published_at: nowIso() })
      .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
      .execute();
  }

  async version(name: string, version: string): Promise<AgentVersion | undefined> {
    const row = await this.db.selectFrom('agent_versions').selectAll().where('name', '=', name).where('version', '=', version).executeTakeFirst();
    return row ? { name: row.name, version: row.version, data: parseJson<AgentData>(row.data_json, null as never), publishedAt: row.published_at } : undefined;
  }

  /** Every version of every agent (or of one), oldest first. */
  async versions(name?: string): Promise<AgentVersion[]> {
    let q = this.db.selectFrom('agent_versions').selectAll();
    if (name) q = q.where('name', '=', name);
    const rows = await q.orderBy('name').orderBy('published_at').orderBy('version').execute();
    return rows.map((row) => ({ name: row.name, version: row.version, data: parseJson<AgentData>(row.data_json, null as never), publishedAt: row.published_at }));
  }

  /** This worker process serves these agents at these versions (replacing what it said before). */
  async serve(identity: string, agents: { agent: string; version: string }[]): Promise<void> {
    const now = nowIso();
    await this.db.deleteFrom('agent_workers').where('identity', '=', identity).execute();
    // Workers killed without withdrawing (SIGKILL, out of memory) leave rows; every start is a new identity, so they
    // would pile up: a day after their last beat they go.
    await this.db.deleteFrom('agent_workers').where('seen_at', '<', new Date(Date.now() - STALE_WORKER_MS).toISOString()).execute();
    if (agents.length === 0) return;
    await this.db
      .insertInto('agent_workers')
      .values(agents.map(({ agent, version }) => ({ identity, agent, version, started_at: now, seen_at: now })))
      .execute();
  }

  /** This worker process is alive: its agents stay served. */
  async beat(identity: string): Promise<void> {
    await this.db.updateTable('agent_workers').set({ seen_at: nowIso() }).where('identity', '=', identity).execute();
  }

  /** This worker process stops serving (a drained shutdown). */
  async withdraw(identity: string): Promise<void> {
    await this.db.deleteFrom('agent_workers').where('identity', '=', identity).execute();
  }

  /** The live workers serving an agent (or every agent), most recently started first. */
  async workers(agent?: string, liveSince: string = agentWorkersLiveSince()): Promise<AgentWorker[]> {
    let q = this.db.selectFrom('agent_workers').selectAll().where('seen_at', '>=', liveSince);
    if (agent) q = q.where('agent', '=', agent);
    const rows = await q.orderBy('started_at', 'desc').orderBy('identity').execute();
    return rows.map((r) => ({ identity: r.identity, agent: r.agent, version: r.version, seenAt: r.seen_at }));
  }

  /**
   * The version a new run of `agent` gets: the one the most recently started live worker serves (a
   * deploy's new workers start last), else the most recently published. Undefined: never published.
   */
  async current(agent: string, liveSince: string = agentWorkersLiveSince()): Promise<{ version: AgentVersion; live: boolean } | undefined> {
    const [live] = await this.workers(agent, liveSince);
    if (live) {
      const version = await this.version(agent, live.version);
      if (version) return { version, live: true };
    }
    const row = await this.db
      .selectFrom('agent_versions')
      .selectAll()
      .where('name', '=', agent)
      .orderBy('published_at', 'desc')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    return { version: { name: row.name, version: row.version, data: parseJson<AgentData>(row.data_json, null as never), publishedAt: row.published_at }, live: false };
  }
}
