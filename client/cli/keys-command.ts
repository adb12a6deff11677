/**
 * `longhaul keys create|list|revoke`: API keys for machines. A created key is printed once — there is no way to
 * see it again — so a script captures it from stdout (the key alone on the first line, or `key` with --json).
 */
import type { LonghaulClient } from '..';
import { SCOPES, type Scope } from '../../contract/identity';

export const KEYS_USAGE = `  keys create <name> --scopes s1,s2 [--expires TIME]              create an API key (printed once); scopes: ${SCOPES.join(', ')}
  keys list [--owner USER]                                           your API keys (a team admin: also those of members on no other team)
  keys revoke <id>                                                   revoke an API key at once, on every API replica`;

export interface KeysOptions {
  json: boolean;
  scopes?: string;
  expires?: string;
  owner?: string;
}

/** A usage mistake in `keys …`: the caller prints it with the usage and exits 2. */
export class KeysUsageError extends Error {}

export async function keysCommand(client: LonghaulClient, args: string[], o: KeysOptions, out: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'create': {
      if (rest.length !== 1) throw new KeysUsageError('keys create takes one name (quote it)');
      if (!o.scopes) throw new KeysUsageError(`keys create needs --scopes (${SCOPES.join(', ')})`);
      // The server names any unknown scope (400 invalid_request); nothing is guessed here.
      const scopes = o.scopes.split(',').map((s) => s.trim()).filter(Boolean) as Scope[];
      const created = await client.keys.create({ name: rest[0]!, scopes, ...(o.expires && { expiresAt: o.expires }) });
      if (o.json) out(JSON.stringify(created));
      else {
        out(created.key);
        out(`API key ${created.id} (${created.scopes.join(', ')}${created.expiresAt ? `, expires ${created.expiresAt}` : ''}): this is the only time it is shown.`);
      }
      return;
    }
    case 'list': {
      if (rest.length !== 0) throw new KeysUsageError('keys list takes no arguments');
      const { keys } = await client.keys.list(o.owner ? { owner: o.owner } : {});
      if (o.json) out(JSON.stringify({ keys }));
      else {
        for (const k of keys) {
          const state = k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? `expired ${k.expiresAt}` : 'active';
          out(`${k.id}  ${k.owner}  ${state}  ${k.scopes.join(',')}  last used ${k.lastUsedAt ?? 'never'}  ${k.name}`);
        }
      }
      return;
    }
    case 'revoke': {
      if (rest.length !== 1) throw new KeysUsageError('keys revoke takes a key id');
      const revoked = await client.keys.revoke(rest[0]!);
      out(o.json ? JSON.stringify(revoked) : `${revoked.id} revoked ${revoked.revokedAt}`);
      return;
    }
    default:
      throw new KeysUsageError('keys takes create, list or revoke');
  }
}
