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
const SECRET_PARAM = /pass|pwd|token|key|secret|sig|auth|credential|session|code|jwt|bearer|(^|[_-])sid$/i;

/** Field names whose values are credentials wherever they appear in a structure. */
const SECRET_FIELD = /^(api_?key|apiKeys?|tokens?|botToken|signingSecret|secret|password|privateKey|clientKey|grpcMeta|authorization|cookie|headers|env)$/i;

/** A URL, as it appears in free text (stopped by whitespace, quotes and brackets). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`\\]+/gi;

/** A URL's `user:password@` in free text, even where the password has a quote or a bracket in it that ends `URL_IN_TEXT`. */
const USERINFO_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*:[^\s@]*@/gi;

/** `Bearer <token>` / `Basic <base64>` / `Token <token>`, any case: a token has a digit or a symbol in it, an English word ("Basic workflow") does not. */
const CREDENTIAL_IN_TEXT = /\b(Bearer|Basic|Token)\s+(?=[A-Za-z._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/gi;

/** `name=value` after `?`, `&`, `;` (path parameters) or `#` (a fragment such as `#access_token=…`). */
const PARAM_IN_URL = /([?&;#])([^?&;#=/]+)=([^&;#]*)/g;

const remembered = new Set<string>();

/** URLs (scheme, host and path) whose path is itself a credential, as a Slack, Teams or Discord webhook's is. */
const secretPaths = new Set<string>();

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

/**
 * Registers URLs whose path carries a token (the deployment's WEBHOOK_URLS): `redactUrl` shows
 * them as scheme and host only, `https://hooks.slack.com/***`, wherever they are written.
 */
export function rememberSecretPaths(urls: Iterable<string>): void {
  for (const raw of urls) {
    const key = pathKey(raw);
    if (key) secretPaths.add(key);
    // The path itself is remembered too, so it is scrubbed wherever it is written — also where the URL around it is
    // not recognised as this one (punctuation after it, a doubled slash, cut from the text).
    const path = pathOf(raw);
    if (path && path.length >= MIN_SECRET_LENGTH) remembered.add(path);
  }
}

/** The URL's path without its leading and trailing slashes (`services/T0/B0/token`), or null. */
function pathOf(raw: string): string | null {
  try {
    const path = new URL(raw).pathname.replace(/^\/+|\/+$/g, '');
    return path || null;
  } catch {
    return null;
  }
}

/** Whether the URL is one `rememberSecretPaths` registered (its query and credentials aside). */
export function hasSecretPath(raw: string): boolean {
  const key = pathKey(raw);
  return key !== null && secretPaths.has(key);
}

function pathKey(raw: string): string | null {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return null;
  }
}

/** The URL as scheme and host, its path, query and credentials hidden: `https://hooks.example/***`. */
export function redactUrlPath(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/**
 * The URL with its userinfo and the values of secret-looking parameters (query, `;` path
 * parameters, fragment) replaced by `***`, and, if its path is a registered secret, the path too.
 * Cut from the text as written, so nothing else is normalised. When it has userinfo, or does not
 * parse (a password with `/`, `#` or `?` in it, an IPv6 zone), everything up to its last `@` is
 * userinfo, and so is everything up to an `@` before its first `/`: fail closed.
 */
export function redactUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url && secretPaths.has(`${url.protocol}//${url.host}${url.pathname}`)) return `${url.protocol}//${url.host}/${REDACTED}`;
  let out = raw;
  const start = raw.indexOf('://');
  if (start >= 0) {
    const rest = raw.slice(start + 3);
    // The userinfo ends at the last @, even past a / # or ?: a password holding one of them may have ended the parsed
    // authority early. Parsed without userinfo, an @ before the first / still is one (`u:12#pw@h`: port 12, a fragment).
    const at = !url || url.username || url.password ? rest.lastIndexOf('@') : rest.slice(0, rest.search(/\/|$/)).lastIndexOf('@');
    if (at >= 0) out = `${raw.slice(0, start + 3)}${REDACTED}${rest.slice(at)}`;
  }
  out = out.replace(PARAM_IN_URL, (whole, sep: string, name: string, value: string) => {
    // A path parameter (`;jsessionid=…`) ends where its path segment does.
    const end = sep === ';' ? value.search(/[/?]|$/) : value.length;
    return end > 0 && SECRET_PARAM.test(decoded(name)) ? `${sep}${name}=${REDACTED}${value.slice(end)}` : whole;
  });
  return scrubRemembered(out);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A Longhaul API key (`lh_<id>_<secret>`, api/api-key-format.ts) anywhere in text: its id may show, its secret never. */
const API_KEY_IN_TEXT = /\blh_([0-9a-f]{16})_[A-Za-z0-9_-]{8,}/g;

/** Text with every URL in it redacted, and every remembered secret replaced. */
export function redactText(text: string): string {
  const urls = text.includes('://') ? text.replace(USERINFO_IN_TEXT, (_, scheme: string) => `${scheme}${REDACTED}@`).replace(URL_IN_TEXT, (u) => redactUrl(u)) : text;
  const keys = urls.includes('lh_') ? urls.replace(API_KEY_IN_TEXT, (_, id: string) => `lh_${id}_${REDACTED}`) : urls;
  return scrubRemembered(keys.replace(CREDENTIAL_IN_TEXT, (_, scheme: string) => `${scheme} ${REDACTED}`));
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
