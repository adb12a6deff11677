/** Connections to Temporal for clients (API) and workers, from the validated config. */
import fs from 'node:fs';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { Config } from '../config';
import type { CertSource } from './connection-profile';
import { currentTracing } from '../tracing';

function certBytes(source: CertSource | undefined): Buffer | undefined {
  if (!source) return undefined;
  return 'path' in source ? fs.readFileSync(source.path) : Buffer.from(source.data);
}

/** TLS options for both kinds of connection, from the resolved profile (files read at connect time). */
export function tlsOptions(t: Config['temporal']): ConnectionOptions['tls'] {
  if (!t.tls) return undefined;
  const crt = certBytes(t.tls.clientCert);
  const key = certBytes(t.tls.clientKey);
  const options = {
    ...(t.tls.serverName && { serverNameOverride: t.tls.serverName }),
    ...(t.tls.serverCaCert && { serverRootCACertificate: certBytes(t.tls.serverCaCert) }),
    ...(crt && key && { clientCertPair: { crt, key } }),
  };
  return Object.keys(options).length ? options : true;
}

export function temporalAddress(config: Pick<Config, 'temporal'>): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

/** Longest pause between two retries of one call; closing waits this long for retry timers. */
const MAX_RETRY_DELAY_MS = 500;
const stoppers = new WeakMap<Client, () => Promise<void>>();

/**
 * A client whose gRPC retries are short (an API answers a person who is waiting) and stoppable:
 * the SDK's default retry timers can outlive a closed connection and fire into it.
 */
export async function connectClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  let closing = false;
  const defaults = defaultGrpcRetryOptions({ maxAttempts: 6, maxIntervalMs: () => MAX_RETRY_DELAY_MS });
  const retry = makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => !closing && defaults.retryableDecider(attempt, status),
    delayFunction: (attempt, status) => Math.min(MAX_RETRY_DELAY_MS, defaults.delayFunction(attempt, status)),
  });
  const connection = await Connection.connect({
    address: temporalAddress(config),
    tls: tlsOptions(config.temporal),
    apiKey: config.temporal.apiKey,
    metadata: config.temporal.grpcMeta,
    interceptors: [retry],
  });
  // While tracing, starting (signalling, querying) a workflow is a span whose context rides in its headers.
  const interceptors = currentTracing().enabled ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors });
  stoppers.set(client, async () => {
    closing = true;
    await new Promise((r) => setTimeout(r, MAX_RETRY_DELAY_MS + 50)); // let scheduled retries fire (and stop)
    await connection.close();
  });
  return client;
}

/** Closes a client from connectClient without leaving a retry timer behind. */
export async function closeClient(client: Client): Promise<void> {
  const stop = stoppers.get(client);
  if (stop) await stop();
  else await client.connection.close();
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const opts: NativeConnectionOptions = {
    address: temporalAddress(config),
    tls: tlsOptions(config.temporal) as NativeConnectionOptions['tls'],
    apiKey: config.temporal.apiKey,
    metadata: config.temporal.grpcMeta,
  };
  return NativeConnection.connect(opts);
}
