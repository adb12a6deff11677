/**
 * Where Temporal is and how to reach it, the way Temporal's own tools read it
 * (@temporalio/envconfig): a profile from a TOML config file — only when TEMPORAL_PROFILE or
 * TEMPORAL_CONFIG_FILE asks for one, so a developer's CLI profile never silently redirects
 * `npm start` — overridden by the environment's TEMPORAL_* variables (Temporal's names, and
 * Longhaul's older TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH).
 */
import fs from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

export type CertSource = ConfigDataSource;

export interface TemporalConnectionSettings {
  /** Unset: `npm start` runs the dev server. */
  address?: string;
  namespace: string;
  apiKey?: string;
  /** TLS to the frontend; undefined: plain TCP. */
  tls?: { serverName?: string; serverCaCert?: CertSource; clientCert?: CertSource; clientKey?: CertSource };
  /** Extra gRPC metadata sent with every call (a profile's `grpc_meta`). */
  grpcMeta?: Record<string, string>;
}

export interface ConnectionEnv {
  TEMPORAL_PROFILE?: string;
  TEMPORAL_CONFIG_FILE?: string;
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_NAMESPACE?: string;
  TEMPORAL_API_KEY?: string;
  TEMPORAL_TLS: boolean;
  TEMPORAL_TLS_SERVER_NAME?: string;
  TEMPORAL_TLS_SERVER_CA_CERT_PATH?: string;
  TEMPORAL_TLS_CLIENT_CERT_PATH?: string;
  TEMPORAL_TLS_CLIENT_KEY_PATH?: string;
  TEMPORAL_TLS_CERT_PATH?: string;
  TEMPORAL_TLS_KEY_PATH?: string;
}

const pathOf = (p: string | undefined): CertSource | undefined => (p ? { path: p } : undefined);

/** Throws (with the file's or profile's problem in the message) when an asked-for profile cannot be read. */
export function resolveTemporalConnection(e: ConnectionEnv): TemporalConnectionSettings {
  // A file named explicitly must exist (envconfig treats a missing file as an empty one).
  if (e.TEMPORAL_CONFIG_FILE && !fs.existsSync(e.TEMPORAL_CONFIG_FILE)) throw new Error(`${e.TEMPORAL_CONFIG_FILE}: no such file`);
  const profile: ClientConfigProfile =
    e.TEMPORAL_PROFILE || e.TEMPORAL_CONFIG_FILE
      ? loadClientConfigProfile({ profile: e.TEMPORAL_PROFILE, configSource: pathOf(e.TEMPORAL_CONFIG_FILE), disableEnv: true, configFileStrict: true })
      : {};
  const fromProfile = profile.tls && !profile.tls.disabled ? profile.tls : undefined;
  const tls = {
    serverName: e.TEMPORAL_TLS_SERVER_NAME ?? fromProfile?.serverName,
    serverCaCert: pathOf(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH) ?? fromProfile?.serverCACert,
    clientCert: pathOf(e.TEMPORAL_TLS_CLIENT_CERT_PATH ?? e.TEMPORAL_TLS_CERT_PATH) ?? fromProfile?.clientCert,
    clientKey: pathOf(e.TEMPORAL_TLS_CLIENT_KEY_PATH ?? e.TEMPORAL_TLS_KEY_PATH) ?? fromProfile?.clientKey,
  };
  const apiKey = e.TEMPORAL_API_KEY ?? profile.apiKey;
  // An API key implies TLS (Temporal Cloud); so does any TLS setting, or a profile's TLS table.
  const tlsOn = e.TEMPORAL_TLS || Boolean(apiKey) || Boolean(fromProfile) || Object.values(tls).some((v) => v !== undefined);
  return {
    address: e.TEMPORAL_ADDRESS ?? profile.address,
    namespace: e.TEMPORAL_NAMESPACE ?? profile.namespace ?? 'default',
    apiKey,
    tls: tlsOn ? tls : undefined,
    grpcMeta: profile.grpcMeta && Object.keys(profile.grpcMeta).length ? profile.grpcMeta : undefined,
  };
}
