/** Structured logging (pino). Secret-bearing fields are redacted wherever they appear. */
import pino, { type Logger } from 'pino';
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
    },
    opts.destination ?? (pretty ? prettyDestination(process.stdout) : undefined),
  );
}
