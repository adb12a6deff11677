/**
 * Picks the bus for this deployment shape. One process (npm start, tests): in memory.
 * Cross-process transports (SQLite tailing, Postgres LISTEN/NOTIFY) come with the live-stream work.
 */
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { Bus } from './bus';
import { InMemoryBus } from './in-memory-bus';

export async function createBus(_opts: { config: Config; store: Store; role: 'publisher' | 'subscriber'; logger: Logger }): Promise<Bus> {
  return new InMemoryBus();
}
