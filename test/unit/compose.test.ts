/**
 * No Docker engine runs here, so docker-compose.yml is checked by reading it: the services a
 * deployment needs, wired to each other, with settings the code actually reads — and the Temporal
 * server started from the very config and setup script the cluster test (test/cluster/) runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS, loadConfig } from '../../shared/config';

const ROOT = path.join(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command?: string[];
      entrypoint?: string[];
      environment?: Record<string, string>;
      depends_on?: unknown;
      ports?: string[];
      volumes?: string[];
      stop_grace_period?: string;
      restart?: string;
      healthcheck?: { test: string[] };
    }
  >;
  volumes: Record<string, unknown>;
};
const { services } = compose;

/** Resolves `${VAR:-default}` / `${VAR:?msg}` the way compose would with VAR unset. */
function resolve(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string, arg: string) => env[name] ?? (op === '-' ? arg : op === '?' ? `<required ${name}>` : ''));
}

describe('docker-compose.yml', () => {
  it('has Temporal on Postgres (schema and namespace set up by one-shot jobs), the Temporal UI, a worker and the API', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
    expect(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(JSON.stringify(compose)).not.toContain('auto-setup'); // no longer built
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      expect(services[job]!.image).toMatch(/^temporalio\/admin-tools:/);
      expect(services[job]!.volumes).toContain('./deploy/temporal/setup.sh:/deploy/setup.sh:ro');
    }
    // admin-tools has busybox sh, not bash: the script is POSIX (and the cluster test runs it with dash).
    expect(services['temporal-schema']!.entrypoint!.join(' ')).toContain('exec sh /deploy/setup.sh schema');
    expect(services['temporal-namespace']!.entrypoint).toEqual(['sh', '/deploy/setup.sh', 'namespace']);
    expect(fs.readFileSync(path.join(ROOT, 'deploy', 'temporal', 'setup.sh'), 'utf8').split('\n')[0]).toBe('#!/bin/sh');
    expect(services.temporal!.depends_on).toMatchObject({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  });

  it('starts the server from the config and setup script the cluster test runs', () => {
    expect(services.temporal!.volumes).toContain('./deploy/temporal/config:/etc/temporal/config:ro');
    expect(services.temporal!.entrypoint!.join(' ')).toContain('exec temporal-server --root /etc/temporal --config config --env longhaul --allow-no-auth start');
    expect(services.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/config/dynamicconfig/longhaul.yaml');
    const cluster = fs.readFileSync(path.join(ROOT, 'test', 'support', 'temporal-cluster.ts'), 'utf8');
    expect(cluster).toContain("path.join(ROOT, 'deploy', 'temporal')");
    expect(cluster).toContain("'--config', 'config', '--env', 'longhaul'");
    expect(cluster).toContain("spawnSync('sh', [path.join(DEPLOY, 'setup.sh')");
    for (const file of ['config/longhaul.yaml', 'config/dynamicconfig/longhaul.yaml', 'setup.sh']) expect(fs.existsSync(path.join(ROOT, 'deploy', 'temporal', file))).toBe(true);
  });

  it('pins every image to a version, builds Longhaul once for worker and API, and restarts what should run', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) expect([name, svc.build]).toEqual(['worker', '.']);
      else if (svc.image !== 'longhaul:local') expect([name, svc.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:\d[\w.-]*$/)]);
      const oneShot = name === 'temporal-schema' || name === 'temporal-namespace';
      expect([name, svc.restart]).toEqual([name, oneShot ? 'no' : 'unless-stopped']);
    }
    expect(services.worker!.image).toBe('longhaul:local');
    expect(services.api!.image).toBe('longhaul:local');
    expect(services.api!.build).toBeUndefined();
  });

  it('checks health the way each service can answer', () => {
    // The server's image has no CLI: the schema job hands it over through a volume.
    expect(services.temporal!.healthcheck!.test.join(' ')).toContain('/opt/temporal-cli/temporal operator cluster health');
    expect(services.temporal!.volumes).toContain('temporal-cli:/opt/temporal-cli:ro');
    expect(services['temporal-schema']!.volumes).toContain('temporal-cli:/cli');
    expect(services['temporal-schema']!.entrypoint!.join(' ')).toContain('cp /usr/local/bin/temporal /cli/temporal');
    expect(services.postgresql!.healthcheck!.test.join(' ')).toContain('pg_isready -h 127.0.0.1'); // over TCP
    expect(services.worker!.healthcheck!.test.join(' ')).toContain('/healthz');
    expect(services.worker!.environment!.WORKER_HEALTH_ADDRESS).toBe('0.0.0.0:3100');
    expect(services.api!.healthcheck!.test.join(' ')).toContain('/readyz');
  });

  it('builds on Node 24 LTS from the lock file exactly, with the workflow bundle prebuilt where the services look for it', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM node:(\d+)/gm)).toEqual(['FROM node:24', 'FROM node:24']);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    const bundle = services.worker!.environment!.WORKFLOW_BUNDLE_PATH!;
    expect(dockerfile).toContain(`node dist/scripts/bundle-workflows.js ${bundle}`);
    expect(services.api!.environment!.WORKFLOW_BUNDLE_PATH).toBe(bundle);
  });

  it('reads its secrets from .env (an example is provided) and allows every origin PUBLIC_URL names', () => {
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    for (const key of ['API_TOKENS', 'ANTHROPIC_API_KEY', 'PUBLIC_URL']) expect(example).toMatch(new RegExp(`^${key}=`, 'm'));
    expect(JSON.stringify(compose)).not.toContain('ALLOWED_ORIGINS'); // the default follows the host the browser used, and PUBLIC_URL
  });

  it('runs worker and API from the built entry points, sharing Temporal and the database', () => {
    const { worker, api } = services;
    expect(worker!.command).toEqual(['node', 'dist/worker/main.js']);
    expect(api!.command).toEqual(['node', 'dist/api/main.js']);
    for (const entry of ['worker/main.ts', 'api/main.ts']) expect(fs.existsSync(path.join(ROOT, entry))).toBe(true);
    const build = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { outDir: string } };
    expect(build.compilerOptions.outDir).toBe('dist');
    expect(build.include).toEqual(expect.arrayContaining(['worker', 'api']));
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'DATABASE_URL', 'DATA_DIR']) {
      expect([key, api!.environment![key]]).toEqual([key, worker!.environment![key]]);
    }
    expect(worker!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(worker!.environment!.DATABASE_URL).toMatch(/^postgres:\/\/longhaul:[^@]+@postgresql:5432\/longhaul$/);
  });

  it('shares no DATA_DIR volume between worker replicas (`--scale worker=3`): their workspace folders are caches of the database', () => {
    const { worker, api } = services;
    const dataDir = worker!.environment!.DATA_DIR;
    // Every replica is PID 1 in its container; on one volume they would share one folder.
    expect(worker!.volumes ?? []).toEqual([]);
    expect(api!.volumes ?? []).toEqual([]);
    expect(Object.values(services).flatMap((s) => s.volumes ?? []).filter((v) => v.split(':')[1] === dataDir)).toEqual([]);
    expect(compose.volumes).not.toHaveProperty('workspaces');
  });

  it('creates the database the services use', () => {
    const init = fs.readFileSync(path.join(ROOT, 'deploy', 'postgres-init.sql'), 'utf8');
    expect(init).toMatch(/CREATE ROLE longhaul LOGIN PASSWORD 'longhaul'/);
    expect(init).toMatch(/CREATE DATABASE longhaul OWNER longhaul/);
    expect(services.postgresql!.volumes).toContain('./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/longhaul.sql:ro');
  });

  it('only sets variables the code reads, with values it accepts', () => {
    for (const name of ['worker', 'api']) {
      const env = services[name]!.environment!;
      for (const key of Object.keys(env)) expect([name, key, CONFIG_KEYS.includes(key)]).toEqual([name, key, true]);
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolve(String(v), { API_TOKENS: 'compose-test-token-123456:admin' })]));
      const config = loadConfig(resolved);
      expect(config.databaseUrl).toBe(resolved.DATABASE_URL);
    }
  });

  it('exposes the API beyond loopback only with API_TOKENS required', () => {
    const env = services.api!.environment!;
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.API_TOKENS).toMatch(/^\$\{API_TOKENS:\?/);
    expect(services.api!.ports).toEqual(['3000:3000']);
  });

  it('waits for healthy dependencies and drains workers on stop', () => {
    expect(services.worker!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' }, postgresql: { condition: 'service_healthy' }, 'temporal-namespace': { condition: 'service_completed_successfully' } });
    expect(services.api!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' }, 'temporal-namespace': { condition: 'service_completed_successfully' } });
    expect(services['temporal-schema']!.depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
    // Docker's stop timeout must outlast the worker's own drain grace, or SIGKILL cuts the drain short.
    const grace = loadConfig({}).activities.workerShutdownGraceSec;
    expect(Number.parseInt(services.worker!.stop_grace_period!, 10)).toBeGreaterThan(grace);
  });
});
