/**
 * Secrets never reach what Longhaul writes: the start-up configuration line, log lines, exported
 * spans, webhook URLs refused at start. The end-to-end search over real processes is
 * test/integration/secrets.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { inSpan } from '../../activities/spans';
import { ConfigError, loadConfig, redactedConfig } from '../../shared/config';
import { OPTIONS } from '../../shared/config-options';
import { createLogger } from '../../shared/logger';
import { redactText, redactUrl, rememberSecretPaths } from '../../shared/redact';
import { RedactingExporter } from '../../shared/tracing';

describe('redactUrl', () => {
  it('hides userinfo and secret-looking query values, and keeps the rest', () => {
    expect(redactUrl('https://alice:pw-123456@hooks.example:8443/in?token=t-123456&team=a')).toBe('https://***@hooks.example:8443/in?token=***&team=a');
    expect(redactUrl('https://tok-abcdef@api.example/v1')).toBe('https://***@api.example/v1');
    expect(redactUrl('postgres://longhaul@db:5432/x?password=pw-123456&sslmode=require')).toBe('postgres://***@db:5432/x?password=***&sslmode=require');
    for (const name of ['password', 'token', 'key', 'secret', 'sig', 'signature', 'access_token', 'apikey', 'X-Amz-Signature', 'api_key', 'pwd']) {
      expect([name, redactUrl(`https://h.example/p?${name}=s3cret-value`)]).toEqual([name, `https://h.example/p?${name}=***`]);
    }
    expect(redactUrl('https://h.example/plain?page=2')).toBe('https://h.example/plain?page=2');
    // Nothing secret: left exactly as written (not normalised).
    expect(redactText('see http://H.example:80/a%7e, then')).toBe('see http://H.example:80/a%7e, then');
  });

  it('finds URLs inside text (an error message, a log line)', () => {
    expect(redactText('fetch failed: Request cannot be constructed from a URL that includes credentials: http://u:pw-9876543@127.0.0.1:9/x')).toBe(
      'fetch failed: Request cannot be constructed from a URL that includes credentials: http://***@127.0.0.1:9/x',
    );
    expect(redactText('{"url":"https://h.example/?sig=abcdef123"}')).toBe('{"url":"https://h.example/?sig=***"}');
    expect(redactText('Authorization: Bearer abcdef-123456')).toBe('Authorization: Bearer ***');
    expect(redactText('Basic dXNlcjpwYXNzd29yZA==')).toBe('Basic ***');
    expect(redactText('Basic workflow, Bearer instructions')).toBe('Basic workflow, Bearer instructions');
  });
});

describe('redactUrl, the harder cases', () => {
  it('cuts the userinfo from the text when the URL does not parse (a password with / # ? \\, an IPv6 zone)', () => {
    for (const password of ['pa/ss-word', 'pa#ss-word', 'pa?ss-word', 'pa\\ss-word', 'p@ss#/?word']) {
      expect([password, redactUrl(`postgres://longhaul:${password}@127.0.0.1:5432/postgres`)]).toEqual([password, 'postgres://***@127.0.0.1:5432/postgres']);
    }
    expect(redactUrl('postgres://longhaul:zone-pass@[fe80::1%25eth0]:5432/postgres')).toBe('postgres://***@[fe80::1%25eth0]:5432/postgres');
    // Parses, as port 12 and a fragment: the @ before the first / still ends a userinfo.
    expect(redactUrl('postgres://longhaul:12#ab-cdefgh@db.example/postgres')).toBe('postgres://***@db.example/postgres');
    expect(redactUrl('https://h.example/users/@bob?x=a@b')).toBe('https://h.example/users/@bob?x=a@b');
    for (const password of ["it's-Hunter2", 'with space', 'back`tick', 'dq"uote', 'an<gle>s']) {
      expect([password, redactUrl(`postgres://longhaul:${password}@127.0.0.1:5432/postgres`)]).toEqual([password, 'postgres://***@127.0.0.1:5432/postgres']);
    }
  });

  it('hides secret values in fragments and ; parameters, and the names jwt, bearer, sid, session, code', () => {
    expect(redactUrl('https://app.example/cb#access_token=abc123def&state=x')).toBe('https://app.example/cb#access_token=***&state=x');
    expect(redactUrl('https://app.example/a;jsessionid=ABC123DEF/b;token=t-1234567')).toBe('https://app.example/a;jsessionid=***/b;token=***');
    for (const name of ['jwt', 'bearer', 'sid', 'session', 'code']) {
      expect([name, redactUrl(`https://h.example/p?${name}=s3cret-value`)]).toEqual([name, `https://h.example/p?${name}=***`]);
    }
    expect(redactUrl('https://h.example/p?side=left&page=2#intro')).toBe('https://h.example/p?side=left&page=2#intro');
  });

  it('finds a URL password in text even where a quote or a bracket is in it, and tokens after bearer or Token in any case', () => {
    expect(redactText("connect postgres://longhaul:it's-Hunter2@127.0.0.1:5432/postgres failed")).toBe('connect postgres://***@127.0.0.1:5432/postgres failed');
    expect(redactText('dial http://otel:pa"ss<word>@collector.example:4318')).toBe('dial http://***@collector.example:4318');
    expect(redactText('authorization: bearer abcdef-123456')).toBe('authorization: bearer ***');
    expect(redactText('Authorization: Token abcdef-123456')).toBe('Authorization: Token ***');
    expect(redactText('Token limit reached, bearer of bad news')).toBe('Token limit reached, bearer of bad news');
  });

  it('shows a URL whose path is a token (a deployment webhook) as scheme and host only', () => {
    rememberSecretPaths(['https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath']);
    expect(redactUrl('https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath?x=1')).toBe('https://hooks.slack.example/***');
    expect(redactText('POST https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath failed')).toBe('POST https://hooks.slack.example/*** failed');
    expect(redactUrl('https://hooks.slack.example/services/other')).toBe('https://hooks.slack.example/services/other');
    // Wherever the URL around it is not recognised as the registered one, the path itself is still scrubbed.
    for (const text of [
      'to https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath, then',
      'to (https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath)',
      'to https://hooks.slack.example//services/T000/B000/SECRET-MARKER-slackpath/',
      'at https://hooks.slack.example/services/T000/B000/SECRET-MARKER-slackpath: refused',
    ]) {
      expect(redactText(text)).not.toContain('SECRET-MARKER');
    }
  });
});

describe('the start-up configuration line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-redact-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const profile = path.join(dir, 'temporal.toml');
  const privateKey = ['-----BEGIN PRIVATE KEY-----', 'SECRET-MARKER-privatekeyline0123456789', '-----END PRIVATE KEY-----'].join('\n');
  fs.writeFileSync(
    profile,
    [
      '[profile.cloud]',
      'address = "ns.tmprl.cloud:7233"',
      'api_key = "SECRET-MARKER-profile-api-key"',
      '[profile.cloud.tls]',
      'client_cert_data = "CERT"',
      `client_key_data = """\n${privateKey}\n"""`,
      '[profile.cloud.grpc_meta]',
      'authorization = "Bearer SECRET-MARKER-grpc-meta"',
    ].join('\n'),
  );
  const env = {
    TEMPORAL_PROFILE: 'cloud',
    TEMPORAL_CONFIG_FILE: profile,
    ANTHROPIC_API_KEY: 'SECRET-MARKER-anthropic-key',
    ANTHROPIC_BASE_URL: 'https://proxyuser:SECRET-MARKER-anthropic-url@llm.example/v1',
    API_TOKENS: 'SECRET-MARKER-api-token-1:alice',
    DATABASE_URL: 'postgres://longhaul@db:5432/x?password=SECRET-MARKER-db-password',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel:SECRET-MARKER-otlp@collector.example:4318',
    SLACK_BOT_TOKEN: 'SECRET-MARKER-slack-bot',
    SLACK_SIGNING_SECRET: 'SECRET-MARKER-slack-signing',
    SLACK_CHANNEL: 'C1',
    SLACK_API_URL: 'https://slack.example/api?token=SECRET-MARKER-slack-url',
    WEBHOOK_URLS: 'https://hooks.example/in?token=SECRET-MARKER-webhook-query',
    WEBHOOK_ALLOWED_HOSTS: 'hooks.example',
    WEBHOOK_SECRET: `whsec_${Buffer.from('SECRET-MARKER-webhook-secret').toString('base64')}`,
    PUBLIC_URL: 'https://ui.example/?key=SECRET-MARKER-public-url',
  };
  const markers = (text: string) => [...new Set(text.match(/SECRET-MARKER-[\w-]+/g) ?? [])];

  it('shows no secret, from the environment or from a Temporal profile', () => {
    const config = loadConfig(env);
    expect(config.temporal.grpcMeta).toEqual({ authorization: 'Bearer SECRET-MARKER-grpc-meta' });
    expect(config.temporal.tls?.clientKey).toBeDefined();
    let logged = '';
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => (logged += s) } });
    logger.info({ config: redactedConfig(config) }, 'starting');
    expect(markers(logged)).toEqual([]);
    expect(markers(Buffer.from(JSON.stringify(redactedConfig(config))).toString())).toEqual([]);
    // What is shown is still useful: hosts, which metadata headers are sent.
    expect(logged).toContain('collector.example:4318');
    expect(logged).toContain('llm.example');
    expect(redactedConfig(config)).toMatchObject({ temporal: { grpcMeta: { authorization: '***' }, apiKey: '***' } });
  });

  it('shows a URL option whole without its password, whatever characters the password has, and webhook paths not at all', () => {
    for (const password of ["it's-Hunter2", 'with space', 'back\\slash', 'back`tick', 'dq"uote', 'an<gle>', 'sl/ash', 'ha#sh', 'que?ry']) {
      const config = loadConfig({
        DATABASE_URL: `postgres://longhaul:${password}-SECRET-MARKER-db@127.0.0.1:5432/postgres`,
        // The OTLP endpoint refuses spaces; a quote it takes.
        OTEL_EXPORTER_OTLP_ENDPOINT: `https://otel:${password.replace(/\s/g, '_')}-SECRET-MARKER-otlp@collector.example:4318`,
        WEBHOOK_URLS: 'https://hooks.example/services/SECRET-MARKER-hook-path',
        WEBHOOK_ALLOWED_HOSTS: 'hooks.example',
        WEBHOOK_SECRET: env.WEBHOOK_SECRET,
      });
      let logged = '';
      const logger = createLogger({ level: 'info', destination: { write: (s: string) => (logged += s) } });
      logger.info({ config: redactedConfig(config) }, 'starting');
      expect([password, markers(logged)]).toEqual([password, []]);
      expect(logged).toContain('"https://hooks.example/***"');
      // Remembered: a log line elsewhere that cuts the URL short at the quote still shows no password.
      logger.warn(`failed: ${config.databaseUrl}`);
      expect([password, markers(logged)]).toEqual([password, []]);
    }
    const zone = loadConfig({ DATABASE_URL: 'postgres://longhaul:SECRET-MARKER-zone@[fe80::1%25eth0]:5432/postgres' });
    expect(markers(JSON.stringify(redactedConfig(zone)))).toEqual([]);
  });

  it('refuses a Temporal UI URL with credentials at start (every run owner gets the link), without printing them', () => {
    expect(() => loadConfig({ TEMPORAL_UI_URL: 'https://ops:SECRET-MARKER-ui@temporal-ui.corp.example' })).toThrow(/TEMPORAL_UI_URL: has user:password@ in it/);
    expect(() => loadConfig({ TEMPORAL_UI_URL: 'https://ops:SECRET-MARKER-ui@temporal-ui.corp.example' })).not.toThrow(/SECRET-MARKER/);
    // A password with `#` or `?` in it reads as a fragment or a query to a parser: refused all the same.
    for (const url of ['https://admin:s3cr3t#pw@temporal.example', 'https://admin:s3cr?3tpw@temporal.example']) {
      expect(() => loadConfig({ TEMPORAL_UI_URL: url })).toThrow(/TEMPORAL_UI_URL: has user:password@ in it/);
    }
  });

  it('names a refused webhook URL by scheme and host only: its path is often its token', () => {
    const refused = () => loadConfig({ WEBHOOK_URLS: 'https://hooks.slack.example/services/T0001/B0001/SECRET-MARKER-path-token', WEBHOOK_SECRET: env.WEBHOOK_SECRET });
    expect(refused).toThrow(/WEBHOOK_URLS: https:\/\/hooks\.slack\.example\/\*\*\*: host hooks\.slack\.example is not in WEBHOOK_ALLOWED_HOSTS/);
    expect(refused).not.toThrow(/SECRET-MARKER/);
  });

  it('says where a JSON error in MCP_SERVERS is, not the text around it', () => {
    expect(() => loadConfig({ MCP_SERVERS: '{"crm":{"url":"https://crm.example/mcp","headers":{"authorization":"SECRET-MARKER-mcp"} x}}' })).toThrow(/MCP_SERVERS: .*not valid JSON/);
    expect(() => loadConfig({ MCP_SERVERS: '{"crm":{"url":"https://crm.example/mcp","headers":{"authorization":"SECRET-MARKER-mcp"} x}}' })).not.toThrow(/SECRET-MARKER/);
  });

  it('marks every option that holds a credential as secret', () => {
    const secret = Object.entries(OPTIONS).flatMap(([name, o]) => ('secret' in o && o.secret ? [name] : []));
    expect(secret.sort()).toEqual(
      ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'API_TOKENS', 'DATABASE_URL', 'OIDC_CLIENT_SECRET', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'PUBLIC_URL', 'SLACK_API_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'TEMPORAL_API_KEY', 'TEMPORAL_UI_URL', 'WEBHOOK_SECRET', 'WEBHOOK_URLS'].sort(),
    );
  });

  it('scrubs a configured secret from any log line, whatever field it is in', () => {
    loadConfig(env);
    let logged = '';
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => (logged += s) } });
    logger.warn({ err: new Error('connect to ns.tmprl.cloud failed, key SECRET-MARKER-profile-api-key'), detail: 'xoxb SECRET-MARKER-slack-bot' }, 'oops');
    logger.info({ where: 'https://u:SECRET-MARKER-anywhere@h.example/' }, 'a URL');
    expect(markers(logged)).toEqual([]);
    expect(logged).toContain('connect to ns.tmprl.cloud failed');
  });

  it('refuses a webhook URL with credentials at start (fetch cannot send it), without printing them', () => {
    let err: unknown;
    try {
      loadConfig({ WEBHOOK_URLS: 'https://user:SECRET-MARKER-hook-pass@hooks.example/refused', WEBHOOK_ALLOWED_HOSTS: 'hooks.example', WEBHOOK_SECRET: env.WEBHOOK_SECRET });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('WEBHOOK_URLS: https://hooks.example/***: has user:password@ in it');
    expect((err as ConfigError).message).not.toContain('SECRET-MARKER');
  });
});

describe('exported spans', () => {
  it("record a failed call's error without the URL credentials in it (activities' spans)", async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    trace.setGlobalTracerProvider(provider);
    try {
      await expect(
        inSpan('tool http_request', {}, async () => {
          throw new TypeError('Request cannot be constructed from a URL that includes credentials: http://u:SECRET-MARKER-fetch@127.0.0.1:9/x');
        }),
      ).rejects.toThrow(/credentials/);
    } finally {
      trace.disable();
    }
    const [span] = memory.getFinishedSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Request cannot be constructed from a URL that includes credentials: http://***@127.0.0.1:9/x' });
    expect(JSON.stringify(span!.events)).toContain('http://***@127.0.0.1:9/x');
    expect(JSON.stringify(span!.events)).not.toContain('SECRET-MARKER');
  });

  it('carry no URL credentials in their status, attributes or recorded exceptions', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new RedactingExporter(memory))] });
    const span = provider.getTracer('t').startSpan('tool http_request');
    const err = new Error('request failed: http://u:SECRET-MARKER-span@127.0.0.1:9/x');
    span.setAttribute('url.full', 'http://u:SECRET-MARKER-attr@127.0.0.1:9/x');
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.end();
    await provider.forceFlush();
    const [exported] = memory.getFinishedSpans();
    expect(exported!.spanContext().traceId).toBe(span.spanContext().traceId);
    const text = JSON.stringify({ status: exported!.status, attributes: exported!.attributes, events: exported!.events });
    expect(text).toContain('http://***@127.0.0.1:9/x');
    expect(text).not.toContain('SECRET-MARKER');
  });
});
