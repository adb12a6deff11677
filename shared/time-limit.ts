/**
 * Synchronous code held to a time limit. Used around JSON Schema validation: a schema's `pattern` is a
 * regular expression a developer wrote, and one with nested quantifiers (`^(a+)+$`) backtracks for minutes
 * on a crafted string of 30 characters. Nothing else can stop it, and meanwhile the whole process waits
 * (the API's event loop for every user, a worker's heartbeats). V8 interrupts a script run by `node:vm`
 * with a `timeout` even inside a regular expression, so the check runs as such a script (a watchdog of
 * about 0.1 ms a call).
 */
import vm from 'node:vm';

export class TimeLimitExceeded extends Error {
  constructor(readonly limitMs: number) {
    super(`took longer than ${limitMs} ms`);
    this.name = 'TimeLimitExceeded';
  }
}

const context = vm.createContext({ call: undefined as (() => unknown) | undefined });
const script = new vm.Script('call()');

/** `fn()`, or TimeLimitExceeded once it has run `limitMs` (it is stopped then; whatever it threw is thrown). */
export function withinTimeLimit<T>(limitMs: number, fn: () => T): T {
  const outer = context.call;
  context.call = fn;
  try {
    return script.runInContext(context, { timeout: limitMs }) as T;
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new TimeLimitExceeded(limitMs);
    throw err;
  } finally {
    context.call = outer;
  }
}
