/**
 * Writes the roles a provider gave a user (at sign-in, on each JWT) into team_members, so API keys, tickets and Slack
 * act with them too — in the order the provider issued them: roles from a token issued before the one last written
 * never replace them (the store checks, atomically), so an old, still-valid token cannot put back a role the provider
 * has since taken away. A token that does not say when it was issued (`iat`) cannot be put in that order, so it
 * writes nothing (its request still acts with its own claim).
 *
 * A JWT arrives with every API call: its roles are written only when they differ from what this process last knew
 * the store to hold for the user, and a token older than that costs no statement at all, not one per request.
 */
import type { TeamRole } from '../../contract/identity';
import type { Store } from '../../shared/store';
import { sameRoles } from './provider-claims';

/** Users whose last written roles are remembered; past this the oldest are forgotten (and written again when seen). */
const REMEMBERED_USERS = 10_000;

/**
 * What this process last knew of a user's stored provider roles: the roles (undefined when another writer's newer
 * roles were found and not read) and the latest issue time it has seen them hold at.
 */
interface Known {
  roles: TeamRole[] | undefined;
  issuedAtMs: number;
}

export class ProviderRoles {
  private readonly known = new Map<string, Known>();

  constructor(private readonly members: Pick<Store['teamMembers'], 'replaceFromProvider'>) {}

  /** `issuedAtMs`: the token's `iat` in epoch milliseconds; undefined writes nothing. */
  async record(user: string, roles: TeamRole[], issuedAtMs: number | undefined): Promise<void> {
    if (issuedAtMs === undefined) return;
    const last = this.known.get(user);
    // The store holds roles at least this recent, so it would refuse these: no statement.
    if (last && issuedAtMs < last.issuedAtMs) return;
    if (last?.roles && sameRoles(last.roles, roles)) {
      // Unchanged: nothing written, but an older token that differs is refused here from now on.
      last.issuedAtMs = issuedAtMs;
      return;
    }
    const written = await this.members.replaceFromProvider(user, roles, issuedAtMs);
    this.remember(user, written.outcome === 'stale' ? { roles: undefined, issuedAtMs: written.storedIssuedAtMs } : { roles, issuedAtMs });
  }

  /** At sign-in the provider's word is written whatever this process remembers (another replica may have written since). */
  async recordNow(user: string, roles: TeamRole[], issuedAtMs: number): Promise<void> {
    this.known.delete(user);
    await this.record(user, roles, issuedAtMs);
  }

  private remember(user: string, known: Known): void {
    this.known.delete(user);
    this.known.set(user, known);
    if (this.known.size > REMEMBERED_USERS) this.known.delete(this.known.keys().next().value!);
  }
}
