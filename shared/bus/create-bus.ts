/**
 * Picks the bus for a process. Worker and API in one process (npm start, most tests): in memory.
 * A process that is only a worker or only an API: through the database (bus.ts explains).
 */
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { Bus } from './bus';
import { InMemoryBus } from './in-memory-bus';
import { PostgresBus } from './postgres-bus';
import { SqliteTailBus } from './sqlite-tail-bus';

export async function createBus(opts: {
  config: Config;
  store: Store;
  logger: Logger;
  /** 'shared': worker and API in this process. 'worker' / 'api': the other side is elsewhere. */
  role: 'shared' | 'worker' | 'api';
}): Promise<Bus> {
  if (opts.role === 'shared') return new InMemoryBus();
  if (opts.store.dialect === 'postgres') {
    const bus = new PostgresBus(opts.store, opts.logger);
    if (opts.role === 'api') await bus.listen();
    return bus;
  }
  return new SqliteTailBus(opts.store, opts.logger, { tailIntervalMs: opts.config.api.liveTailIntervalMs });
}
