/**
 * Structured logging (pino). Secret-bearing fields are redacted wherever they appear, and every
 * line is passed through shared/redact.ts (URL credentials, the configured secrets) as it is written.
 */
import pino, { type Logger } from 'pino';
import { redactText } from './redact';
import { prettyDestination } from './log-format';

export type { Logger };

export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'grpcMeta',
  '*.grpcMeta',
];

/** `auto`: pretty lines on a terminal, JSON (one object per line) for log collectors. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(opts: { level?: string; name?: string; format?: LogFormat; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY);
  return pino(
    {
      name: opts.name ?? 'longhaul',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      // Whatever a line says (an error's message, a URL a library logged): no URL credentials, no configured secret.
      hooks: { streamWrite: redactText },
    },
    opts.destination ?? (pretty ? prettyDestination(process.stdout) : undefined),
  );
}
