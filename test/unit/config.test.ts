import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, ConfigError, loadConfig, redactedConfig } from '../../shared/config';
import { configTable, OPTIONS } from '../../shared/config-options';
import { README, withConfigTable } from '../../scripts/config-docs';
import os from 'node:os';
import { createLogger } from '../../shared/logger';
import { tlsOptions } from '../../shared/temporal/connection';
import { openDatabase } from '../../shared/store/open-database';

describe('config', () => {
  it('has working defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.databaseUrl).toBeUndefined();
    expect(c.temporal).toMatchObject({ address: undefined, namespace: 'default', taskQueue: 'longhaul', tls: undefined, devPort: 7233 });
    expect(c.model.defaultModel).toBe('demo');
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 3000, tokens: undefined });
    expect(c.tools.httpAllowedHosts).toEqual([]);
    expect(c.approvals).toMatchObject({ defaultPolicy: 'write', minPolicy: 'none', timeoutSec: 86400, selfApproval: true });
    expect(c.slack).toBeUndefined();
    expect(c.runs.subagentCostShare).toBe(0.5);
    expect(loadConfig({ SUBAGENT_COST_SHARE: '0.25' }).runs.subagentCostShare).toBe(0.25);
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ TEMPORAL_ADDRESS: '', DATABASE_URL: '  ', ANTHROPIC_API_KEY: '' });
    expect(c.temporal.address).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.model.defaultModel).toBe('demo');
  });

  it('defaults to a Claude model once a key is set', () => {
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-x' }).model.defaultModel).toBe('claude-sonnet-5-5');
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-x', LLM_MODEL: 'claude-opus-5-5' }).model.defaultModel).toBe('claude-opus-5-5');
  });

  it('reaches the model over node:http unless MODEL_HTTP_CLIENT says fetch, and refuses any other client', () => {
    expect(loadConfig({}).model.httpClient).toBe('node');
    expect(loadConfig({ MODEL_HTTP_CLIENT: 'fetch' }).model.httpClient).toBe('fetch');
    expect(() => loadConfig({ MODEL_HTTP_CLIENT: 'undici' })).toThrow('MODEL_HTTP_CLIENT');
  });

  it('parses tokens, lists, pricing and Slack users', () => {
    const c = loadConfig({
      API_TOKENS: 'aaaaaaaaaaaaaaaa:alice, bbbbbbbbbbbbbbbb:bob',
      HTTP_TOOL_ALLOWED_HOSTS: 'API.example.com, 127.0.0.1:8080',
      MODEL_PRICING: '{"my-model":{"inputPerMTok":1,"outputPerMTok":2}}',
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      SLACK_CHANNEL: 'C1',
      SLACK_USERS: 'U1:alice,U2:bob',
    });
    expect([...c.api.tokens!.entries()]).toEqual([
      ['aaaaaaaaaaaaaaaa', 'alice'],
      ['bbbbbbbbbbbbbbbb', 'bob'],
    ]);
    expect(c.tools.httpAllowedHosts).toEqual(['api.example.com', '127.0.0.1:8080']);
    expect(c.model.pricing['my-model']).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect([...c.slack!.users.entries()]).toEqual([
      ['U1', 'alice'],
      ['U2', 'bob'],
    ]);
  });

  it("parses SLACK_TEAM_CHANNELS into each team's channel, and refuses it malformed or without Slack", () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_CHANNEL: 'C_ALL' };
    expect([...loadConfig({ ...slack, SLACK_TEAM_CHANNELS: ' payments:C_PAY , billing-eu:C_BILL' }).slack!.teamChannels]).toEqual([
      ['payments', 'C_PAY'],
      ['billing-eu', 'C_BILL'],
    ]);
    expect(loadConfig(slack).slack!.teamChannels.size).toBe(0);
    for (const bad of ['payments', 'payments:', 'Payments:C1', 'payments:C1:x', 'payments:C1,payments:C2']) {
      expect(() => loadConfig({ ...slack, SLACK_TEAM_CHANNELS: bad })).toThrow('SLACK_TEAM_CHANNELS');
    }
    expect(() => loadConfig({ SLACK_TEAM_CHANNELS: 'payments:C_PAY' })).toThrow('SLACK_TEAM_CHANNELS needs Slack');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ API_TOKENS: 'short:alice' }, 'API_TOKENS'],
    [{ API_TOKENS: 'no-user-here-at-all' }, 'API_TOKENS'],
    [{ SELF_APPROVAL: 'maybe' }, 'SELF_APPROVAL'],
    [{ MODEL_PRICING: '{"x":1}' }, 'MODEL_PRICING'],
    [{ MCP_SERVERS: 'not json' }, 'MCP_SERVERS'],
    [{ WEBHOOK_URLS: 'https://hooks.example/x', WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }, 'WEBHOOK_ALLOWED_HOSTS'],
    [{ WEBHOOK_URLS: 'https://hooks.example/x', WEBHOOK_ALLOWED_HOSTS: 'hooks.example' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: 'not-a-whsec' }, 'WEBHOOK_SECRET'],
    [{ MCP_SERVERS: '{"bad__name":{"command":"node"}}' }, 'MCP_SERVERS'],
    [{ MCP_SERVERS: '{"x":{"command":"node","url":"http://127.0.0.1/mcp"}}' }, 'MCP_SERVERS'],
    [{ MCP_SERVERS: '{"x":{"url":"file:///etc/passwd"}}' }, 'MCP_SERVERS'],
    [{ DEFAULT_APPROVALS: 'sometimes' }, 'DEFAULT_APPROVALS'],
    [{ SLACK_BOT_TOKEN: 'xoxb' }, 'SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL'],
    [{ DEFAULT_MAX_STEPS: '10', MAX_STEPS_LIMIT: '5' }, 'DEFAULT_MAX_STEPS'],
    [{ WORKER_ACTIVITY_SLOTS: '0' }, 'WORKER_ACTIVITY_SLOTS'],
    [{ WORKER_ACTIVITY_SLOTS: 'lots' }, 'WORKER_ACTIVITY_SLOTS'],
    [{ WORKER_ACTIVITY_SLOTS: '2.5' }, 'WORKER_ACTIVITY_SLOTS'],
    [{ WORKER_ACTIVITY_SLOTS: '1000000' }, 'WORKER_ACTIVITY_SLOTS'],
    [{ WORKER_LOCAL_ACTIVITY_SLOTS: '-1' }, 'WORKER_LOCAL_ACTIVITY_SLOTS'],
    [{ WORKER_WORKFLOW_TASK_SLOTS: '1' }, 'WORKER_WORKFLOW_TASK_SLOTS'],
    [{ WORKER_WORKSPACE_ACTIVITY_SLOTS: '0' }, 'WORKER_WORKSPACE_ACTIVITY_SLOTS'],
    [{ WORKER_CACHED_WORKFLOWS: '1' }, 'WORKER_CACHED_WORKFLOWS'],
    [{ WORKER_CACHED_WORKFLOWS: '50', WORKER_WORKFLOW_TASK_SLOTS: '100' }, 'WORKER_WORKFLOW_TASK_SLOTS must not exceed WORKER_CACHED_WORKFLOWS'],
    [{ WORKER_TUNER: 'auto' }, 'WORKER_TUNER'],
    [{ WORKER_TUNER_TARGET_MEMORY: '80' }, 'WORKER_TUNER_TARGET_MEMORY'],
    [{ WORKER_TUNER_TARGET_CPU: '0' }, 'WORKER_TUNER_TARGET_CPU'],
    [{ WORKER_POLLERS: 'many' }, 'WORKER_POLLERS'],
    [{ WORKER_WORKFLOW_POLLERS: '1' }, 'WORKER_WORKFLOW_POLLERS'],
    [{ WORKER_ACTIVITY_POLLERS: '0' }, 'WORKER_ACTIVITY_POLLERS'],
    [{ WORKER_ACTIVITY_POLLERS: '3.5' }, 'WORKER_ACTIVITY_POLLERS'],
    [{ WORKER_ACTIVITY_POLLERS: '5000' }, 'WORKER_ACTIVITY_POLLERS'],
    [{ SUBAGENT_COST_SHARE: '0' }, 'SUBAGENT_COST_SHARE'],
    [{ SUBAGENT_COST_SHARE: '1.5' }, 'SUBAGENT_COST_SHARE'],
    [{ SUBAGENT_COST_SHARE: 'half' }, 'SUBAGENT_COST_SHARE'],
  ])('rejects %j naming %s', (env, name) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(name);
  });

  it('sizes a worker for I/O-bound streaming work unless told otherwise (README: Sizing a worker)', () => {
    expect(loadConfig({}).worker).toEqual({
      tuner: 'fixed',
      activitySlots: 2000,
      localActivitySlots: 200,
      workflowTaskSlots: 100,
      workspaceActivitySlots: 200,
      cachedWorkflows: 1000,
      targetMemoryUsage: 0.8,
      targetCpuUsage: 0.9,
      pollers: 'autoscaling',
      workflowPollers: undefined,
      activityPollers: undefined,
    });
    const c = loadConfig({ WORKER_TUNER: 'resource', WORKER_ACTIVITY_SLOTS: '5000', WORKER_CACHED_WORKFLOWS: '0', WORKER_WORKFLOW_TASK_SLOTS: '500', WORKER_TUNER_TARGET_MEMORY: '0.5', WORKER_POLLERS: 'fixed', WORKER_ACTIVITY_POLLERS: '20' });
    // A cache of 0 (off) puts no bound on the workflow task slots.
    expect(c.worker).toMatchObject({ tuner: 'resource', activitySlots: 5000, cachedWorkflows: 0, workflowTaskSlots: 500, targetMemoryUsage: 0.5, pollers: 'fixed', activityPollers: 20 });
  });

  it('sizes each process\'s Postgres pool from DATABASE_POOL_MAX (20 unless told)', async () => {
    expect(loadConfig({}).databasePoolMax).toBe(20);
    expect(loadConfig({ DATABASE_POOL_MAX: '40' }).databasePoolMax).toBe(40);
    expect(() => loadConfig({ DATABASE_POOL_MAX: '0' })).toThrow(/DATABASE_POOL_MAX/);
    // The pool is made with it (no connection is opened until a query; no migration here).
    const opened = await openDatabase({ ...loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATABASE_POOL_MAX: '7' }), migrate: false });
    expect(opened.pool?.options.max).toBe(7);
    await opened.db.destroy();
  });

  it('bounds a Postgres statement\'s wait for its answer by DATABASE_STATEMENT_TIMEOUT_MS (30 s unless told)', () => {
    expect(loadConfig({}).databaseStatementTimeoutMs).toBe(30_000);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '120000' }).databaseStatementTimeoutMs).toBe(120_000);
    // Off is not an option: a server gone silent would hold its caller for good.
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
  });

  it('documents every key in the README configuration table, exactly as the options define it (npm run docs:config)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(withConfigTable(readme, configTable())).toBe(readme);
    const missing = CONFIG_KEYS.filter((k) => !readme.includes(`| \`${k}\` |`));
    expect(missing).toEqual([]);
  });

  it('shows in the README the very defaults the parsers apply', () => {
    const c = loadConfig({});
    expect(OPTIONS.PORT.shown).toBe(`\`${c.api.port}\``);
    expect(OPTIONS.ACTIVITY_MAX_ATTEMPTS.shown).toBe(`\`${c.activities.maxAttempts}\``);
    expect(OPTIONS.DEFAULT_APPROVALS.shown).toBe(`\`${c.approvals.defaultPolicy}\``);
    expect(OPTIONS.SELF_APPROVAL.shown).toBe(`\`${c.approvals.selfApproval}\``);
    expect(OPTIONS.TEMPORAL_NAMESPACE.shown).toBe(`\`${c.temporal.namespace}\``);
  });

  it('never logs secrets', () => {
    const c = loadConfig({
      ANTHROPIC_API_KEY: 'sk-ant-secret-value',
      TEMPORAL_API_KEY: 'temporal-secret',
      API_TOKENS: 'supersecrettoken1234:alice',
      DATABASE_URL: 'postgres://user:dbpassword@db:5432/x',
      SLACK_BOT_TOKEN: 'xoxb-secret',
      SLACK_SIGNING_SECRET: 'signing-secret',
      SLACK_CHANNEL: 'C1',
      WEBHOOK_SECRET: `whsec_${Buffer.from('webhook-secret-bytes-0123456789').toString('base64')}`,
      MCP_SERVERS: JSON.stringify({ crm: { url: 'https://crm.example/mcp', headers: { authorization: 'Bearer mcp-header-secret' } }, files: { command: 'node', env: { TOKEN: 'mcp-env-secret' } } }),
    });
    expect(c.tools.mcpServers.crm).toEqual({ url: 'https://crm.example/mcp', headers: { authorization: 'Bearer mcp-header-secret' } });
    let logged = '';
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => (logged += s) } });
    logger.info({ config: redactedConfig(c) }, 'starting');
    logger.info({ apiKey: 'sk-ant-secret-value', headers: { authorization: 'Bearer supersecrettoken1234' } }, 'request');
    for (const secret of ['sk-ant-secret-value', 'temporal-secret', 'supersecrettoken1234', 'dbpassword', 'xoxb-secret', 'signing-secret', 'mcp-header-secret', 'mcp-env-secret', Buffer.from('webhook-secret-bytes-0123456789').toString('base64')]) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).toContain('starting');
  });

  describe('Temporal connection (envconfig profiles, TEMPORAL_* variables)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-profile-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'temporal.toml');
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, 'CA-BYTES');
    fs.writeFileSync(
      file,
      [
        '[profile.prod]',
        'address = "temporal.internal:7233"',
        'namespace = "agents"',
        'api_key = "profile-key"',
        '[profile.prod.tls]',
        'server_name = "frontend.temporal.internal"',
        `server_ca_cert_path = "${ca}"`,
        '[profile.prod.grpc_meta]',
        'x-team = "agents"',
        '[profile.plain]',
        'address = "10.0.0.5:7233"',
      ].join('\n'),
    );

    it('reads a profile when asked, with TLS (server CA, SNI), API key and gRPC metadata', () => {
      const c = loadConfig({ TEMPORAL_PROFILE: 'prod', TEMPORAL_CONFIG_FILE: file });
      expect(c.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'agents', apiKey: 'profile-key', grpcMeta: { 'x-team': 'agents' } });
      expect(c.temporal.tls).toMatchObject({ serverName: 'frontend.temporal.internal', serverCaCert: { path: ca } });
      expect(tlsOptions(c.temporal)).toEqual({ serverNameOverride: 'frontend.temporal.internal', serverRootCACertificate: Buffer.from('CA-BYTES') });
      expect(JSON.stringify(redactedConfig(c))).not.toContain('profile-key');
    });

    it("lets today's TEMPORAL_* variables override the profile", () => {
      const c = loadConfig({ TEMPORAL_PROFILE: 'prod', TEMPORAL_CONFIG_FILE: file, TEMPORAL_ADDRESS: 'override:7233', TEMPORAL_NAMESPACE: 'other', TEMPORAL_TLS_SERVER_NAME: 'sni.example' });
      expect(c.temporal).toMatchObject({ address: 'override:7233', namespace: 'other' });
      expect(c.temporal.tls?.serverName).toBe('sni.example');
    });

    it('keeps plain TCP for a profile without TLS, and reads the older client-certificate names', () => {
      expect(loadConfig({ TEMPORAL_PROFILE: 'plain', TEMPORAL_CONFIG_FILE: file }).temporal).toMatchObject({ address: '10.0.0.5:7233', namespace: 'default', tls: undefined });
      const cert = path.join(dir, 'c.pem');
      const key = path.join(dir, 'k.pem');
      fs.writeFileSync(cert, 'CERT');
      fs.writeFileSync(key, 'KEY');
      const legacy = loadConfig({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT_PATH: cert, TEMPORAL_TLS_KEY_PATH: key });
      expect(tlsOptions(legacy.temporal)).toEqual({ clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
      expect(tlsOptions(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporal)).toBe(true); // an API key implies TLS
      expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(/must be set together/);
    });

    it('refuses a profile it cannot find, saying which', () => {
      expect(() => loadConfig({ TEMPORAL_PROFILE: 'nope', TEMPORAL_CONFIG_FILE: file })).toThrow(/TEMPORAL_PROFILE.*nope/);
      expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') })).toThrow(ConfigError);
    });
  });
});
