/**
 * The text of an API key: `lh_<id>_<secret>`. The prefix lets secret scanners find a leaked key; the id (16 hex
 * characters, public, shown in lists) lets a check find the key's row with one read; the secret (32 random bytes,
 * base64url) is what proves the key, and only its SHA-256 is stored. A fast hash is right here: the secret is
 * random and long, so there is nothing for a slow hash to protect that guessing could reach.
 */
import crypto from 'node:crypto';
import { API_KEY_PREFIX } from '../contract/identity';

const ID_BYTES = 8;
const SECRET_BYTES = 32;
const KEY_TEXT = new RegExp(`^${API_KEY_PREFIX}([0-9a-f]{${ID_BYTES * 2}})_([A-Za-z0-9_-]{${Math.ceil((SECRET_BYTES * 4) / 3)}})$`);

export interface NewApiKey {
  id: string;
  /** The whole key, to be shown once and never stored. */
  text: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function newApiKey(): NewApiKey {
  const id = crypto.randomBytes(ID_BYTES).toString('hex');
  const secret = crypto.randomBytes(SECRET_BYTES).toString('base64url');
  return { id, text: `${API_KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a key's text; undefined for anything not shaped like a key. */
export function parseApiKey(text: string): { id: string; secret: string } | undefined {
  const m = KEY_TEXT.exec(text);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Whether the secret is the one whose hash is stored, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && crypto.timingSafeEqual(presented, stored);
}
