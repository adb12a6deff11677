/**
 * No Docker engine runs here, so docker-compose.yml is checked by reading it: the services a
 * deployment needs, wired to each other, with settings the code actually reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS, loadConfig } from '../../shared/config';

const ROOT = path.join(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: unknown; ports?: string[]; volumes?: string[]; stop_grace_period?: string }>;
  volumes: Record<string, unknown>;
};
const { services } = compose;

/** Resolves `${VAR:-default}` / `${VAR:?msg}` the way compose would with VAR unset. */
function resolve(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string, arg: string) => env[name] ?? (op === '-' ? arg : op === '?' ? `<required ${name}>` : ''));
}

describe('docker-compose.yml', () => {
  it('has Temporal on Postgres, the Temporal UI, a worker and the API', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('pins every image to a version', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image) expect([name, svc.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:\d[\w.-]*$/)]);
      else expect([name, svc.build]).toEqual([name, '.']);
    }
  });

  it('runs worker and API from the built entry points, sharing Temporal, the database and DATA_DIR', () => {
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
    expect(api!.volumes).toEqual(worker!.volumes);
    expect(compose.volumes).toHaveProperty('workspaces');
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
    expect(services.worker!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' }, postgresql: { condition: 'service_healthy' } });
    expect(services.api!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
    expect(services.temporal!.depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
    // Docker's stop timeout must outlast the worker's own drain grace, or SIGKILL cuts the drain short.
    const grace = loadConfig({}).activities.workerShutdownGraceSec;
    expect(Number.parseInt(services.worker!.stop_grace_period!, 10)).toBeGreaterThan(grace);
  });
});
