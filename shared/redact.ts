/**
 * Keeps secrets out of everything Longhaul writes: log lines, API answers, span statuses and error
 * messages. Three tools, used by every writer: `redactUrl` (a URL's userinfo and its secret-looking
 * query values), `redactText` (every URL inside a text, and every secret value the process was
 * configured with), and `redactValue` (a structure, such as the configuration, by the names of
 * its fields). The configured secrets are remembered process-wide by `rememberSecrets`, which
 * loadConfig calls with the values of the options config-options.ts marks wholly secret (keys,
 * tokens): a writer nobody thought of still cannot print them verbatim.
 */

export const REDACTED = '***';

/** Query parameters whose values are credentials (matched anywhere in the name: `x-amz-signature`, `api_key`, `pwd`). */
const SECRET_PARAM = /pass|pwd|token|key|secret|sig|auth|credential|session|code/i;

/** Field names whose values are credentials wherever they appear in a structure. */
const SECRET_FIELD = /^(api_?key|apiKeys?|tokens?|botToken|signingSecret|secret|password|privateKey|clientKey|grpcMeta|authorization|cookie|headers|env)$/i;

/** A URL, as it appears in free text (stopped by whitespace, quotes and brackets). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`\\]+/gi;

/** `Bearer <token>` / `Basic <base64>`: a token has a digit or a symbol in it, an English word ("Basic workflow") does not. */
const CREDENTIAL_IN_TEXT = /\b(Bearer|Basic)\s+(?=[A-Za-z._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/g;

const remembered = new Set<string>();

/** Shorter values would scrub ordinary words; secrets are longer than this. */
const MIN_SECRET_LENGTH = 8;

/** Whether a parameter or header name (`token`, `x-api-key`, `authorization`) says its value is a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/** Registers values (API keys, tokens, passwords) that `redactText` replaces wherever they appear. */
export function rememberSecrets(values: Iterable<string | undefined>): void {
  for (const v of values) if (v && v.length >= MIN_SECRET_LENGTH) remembered.add(v);
}

/** The URL with its userinfo and secret-looking query values replaced by `***`; not a URL: `redactText` of it. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return scrubRemembered(raw);
  }
  let changed = false;
  if (url.username || url.password) {
    url.username = REDACTED;
    url.password = '';
    changed = true;
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name) && url.searchParams.getAll(name).some((v) => v !== '')) {
      url.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  // Nothing to hide: the text as it was (URL would normalise it). Else URL encodes the marker (`%2A%2A%2A`): show it plainly.
  return scrubRemembered(changed ? url.toString().replace(/%2A%2A%2A/g, REDACTED) : raw);
}

/** Text with every URL in it redacted, and every remembered secret replaced. */
export function redactText(text: string): string {
  const urls = text.includes('://') ? text.replace(URL_IN_TEXT, (u) => redactUrl(u)) : text;
  return scrubRemembered(urls.replace(CREDENTIAL_IN_TEXT, (_, scheme: string) => `${scheme} ${REDACTED}`));
}

function scrubRemembered(text: string): string {
  let out = text;
  for (const secret of remembered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A copy safe to write: fields named like credentials hidden (an object's keys kept, its values
 * hidden; a map shown by its size), URLs and remembered secrets redacted in every string, bytes
 * shown by their length.
 */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [redactText(String(k)), redactValue(v)]));
  if (value instanceof Set) return [...value].map(redactValue);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? hidden(v) : redactValue(v);
  return out;
}

function hidden(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return value;
  if (value instanceof Map || value instanceof Set) return `${value.size} hidden`;
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  }
  return REDACTED;
}
