/**
 * Slack request signing (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret,
 * compared in constant time; requests more than five minutes from now are refused as replays.
 */
import crypto from 'node:crypto';

export const MAX_SLACK_SKEW_SEC = 5 * 60;

export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'mismatch';

export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

export function verifySlackSignature(opts: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  nowSec?: number;
}): SignatureCheck {
  const { timestamp, signature } = opts;
  if (!timestamp || !signature) return 'missing';
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isFinite(ts)) return 'mismatch';
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > MAX_SLACK_SKEW_SEC) return 'stale';
  const expected = Buffer.from(slackSignature(opts.signingSecret, timestamp, opts.rawBody));
  const presented = Buffer.from(signature);
  if (expected.length !== presented.length) return 'mismatch';
  return crypto.timingSafeEqual(expected, presented) ? 'ok' : 'mismatch';
}
