/**
 * The shapes of the API key routes (/api/keys): what creating a key takes, what a key looks like in a list, and
 * the one answer that carries the key's secret (creation: it is shown once, then only its hash is kept).
 */
import { z } from 'zod';
import { SCOPES } from './identity';

const isoTime = z.string().meta({ format: 'date-time' });

export const scopeSchema = z.enum(SCOPES).meta({
  id: 'Scope',
  description: 'What a key may be used for: runs:read (see runs), runs:write (start and steer them), approvals:decide, admin (everything the owner may do).',
});

export const KEY_NAME_MAX = 100;
/** Keys a user may hold at once (neither revoked nor expired): enough for any fleet, not a table without end. */
export const MAX_ACTIVE_KEYS_PER_USER = 100;

export const createApiKeyBody = z
  .object({
    name: z
      .string()
      .refine((s) => s.trim().length > 0, 'name must not be empty')
      .pipe(z.string().max(KEY_NAME_MAX, `name must be at most ${KEY_NAME_MAX} characters`))
      .meta({ description: 'What the key is for, to recognise it in a list.' }),
    scopes: z
      .array(scopeSchema)
      .min(1, 'give at least one scope')
      .refine((s) => new Set(s).size === s.length, 'a scope is listed twice')
      .meta({ description: 'At most what the caller\'s own credential may do (403 `scope_missing` otherwise).' }),
    expiresAt: z.iso
      .datetime({ offset: true, message: 'expiresAt must be an ISO 8601 time, e.g. 2027-01-31T00:00:00Z' })
      .optional()
      .meta({ description: 'When the key stops working (401 `key_expired` after); must be in the future. Default: never.' }),
  })
  .strict()
  .meta({ id: 'CreateApiKeyRequest' });
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

export const apiKeyViewSchema = z
  .object({
    id: z.string().meta({ description: 'Public: the part of the key after `lh_` and before the next `_`.' }),
    name: z.string(),
    owner: z.string(),
    scopes: z.array(scopeSchema),
    createdAt: isoTime,
    expiresAt: isoTime.nullable(),
    lastUsedAt: isoTime.nullable().meta({ description: 'Recorded at most about once a minute.' }),
    revokedAt: isoTime.nullable(),
    revokedBy: z.string().nullable().meta({ description: 'The user who revoked it, or who revoked a key it was made from (that revokes it too).' }),
    madeBy: z
      .string()
      .nullable()
      .meta({ description: 'The id of the key (with the `admin` scope) that made this one: revoking that key revokes this one too, and any key made from it. Null: made by a signed-in user or a token.' }),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

export const apiKeyCreatedSchema = apiKeyViewSchema
  .extend({ key: z.string().meta({ description: 'The key itself (`lh_…`): shown this once, never again. Send it as `Authorization: Bearer lh_…`.' }) })
  .meta({ id: 'ApiKeyCreated' });
export type ApiKeyCreated = z.infer<typeof apiKeyCreatedSchema>;

export const apiKeyListSchema = z
  .object({ keys: z.array(apiKeyViewSchema) })
  .meta({ id: 'ApiKeyList', description: "The caller's keys, and those of users all of whose teams the caller administers." });
export type ApiKeyList = z.infer<typeof apiKeyListSchema>;

export const apiKeysQuery = z.object({ owner: z.string().min(1).max(200).optional().meta({ description: 'Only this user\'s keys.' }) }).strict();
