/** Connections to Temporal for clients (API) and workers, from the validated config. */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

function tlsOptions(t: Config['temporal']): ConnectionOptions['tls'] {
  if (!t.tls) return undefined;
  if (t.tlsCertPath && t.tlsKeyPath) {
    return { clientCertPair: { crt: fs.readFileSync(t.tlsCertPath), key: fs.readFileSync(t.tlsKeyPath) } };
  }
  return true;
}

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: temporalAddress(config),
    tls: tlsOptions(config.temporal),
    apiKey: config.temporal.apiKey,
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const opts: NativeConnectionOptions = {
    address: temporalAddress(config),
    tls: tlsOptions(config.temporal) as NativeConnectionOptions['tls'],
    apiKey: config.temporal.apiKey,
  };
  return NativeConnection.connect(opts);
}
