/**
 * Pretty log lines for people at a terminal: `12:04:05 WARN  message  key=value …`, errors with
 * their stack. Pino still builds (and redacts) the JSON; this only re-renders each line, so the
 * two formats never say different things.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json; // not ours: as it came
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toTimeString().slice(0, 8) : '';
  const level = LEVELS[o.level as number] ?? String(o.level);
  const err = o.err as { message?: string; stack?: string } | undefined;
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k) && k !== 'err')
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  const head = `${time} ${level} ${typeof o.msg === 'string' ? o.msg : ''}${fields ? `  ${fields}` : ''}`;
  return `${head}${err ? `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}` : ''}\n`;
}

/** A pino destination writing pretty lines to `out`. */
export function prettyDestination(out: NodeJS.WritableStream): { write(chunk: string): void } {
  return { write: (chunk) => void out.write(chunk.split('\n').filter(Boolean).map(prettyLine).join('')) };
}
