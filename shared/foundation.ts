/**
 * What every Longhaul process stands on, opened one way everywhere (npm start, npm run worker,
 * npm run api, the tests and the benches): the store, a Temporal client, the search attributes
 * registered, and the bus that fits the process's role. Close it once, in reverse.
 */
import type { Client } from '@temporalio/client';
import type { Bus } from './bus/bus';
import { createBus } from './bus/create-bus';
import type { Config } from './config';
import type { Logger } from './logger';
import { createStore, type Store } from './store';
import { closeClient, connectClient } from './temporal/connection';
import { ensureSearchAttributes } from './temporal/search-attributes';

export interface Foundation {
  store: Store;
  client: Client;
  bus: Bus;
  close(): Promise<void>;
}

export async function openFoundation(opts: {
  config: Config;
  logger: Logger;
  /** 'shared': worker and API in this process. 'worker' / 'api': the other side is elsewhere. */
  role: 'shared' | 'worker' | 'api';
}): Promise<Foundation> {
  const { config, logger, role } = opts;
  const store = await createStore(config);
  const client = await connectClient(config);
  try {
    const registered = await ensureSearchAttributes(client, config.temporal.namespace);
    if (registered.length) logger.info({ registered }, 'registered search attributes');
  } catch (err) {
    logger.warn({ err }, 'could not register search attributes; register them with `temporal operator search-attribute create`');
  }
  const bus = await createBus({ config, store, logger, role });
  return {
    store,
    client,
    bus,
    close: async () => {
      await bus.close();
      await closeClient(client);
      await store.close();
    },
  };
}
