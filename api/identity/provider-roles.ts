/**
 * Writes the roles a provider gave a user (at sign-in, on each JWT) into team_members, so API keys, tickets and Slack
 * act with them too. A JWT arrives with every API call: the roles it carries are written only when they differ from
 * the last ones this process wrote for the user, not once per request.
 */
import type { TeamRole } from '../../contract/identity';
import type { Store } from '../../shared/store';
import { sameRoles } from './provider-claims';

/** Users whose last written roles are remembered; past this the oldest are forgotten (and written again when seen). */
const REMEMBERED_USERS = 10_000;

export class ProviderRoles {
  private readonly written = new Map<string, TeamRole[]>();

  constructor(private readonly members: Pick<Store['teamMembers'], 'replaceFromProvider'>) {}

  async record(user: string, roles: TeamRole[]): Promise<void> {
    const last = this.written.get(user);
    if (last && sameRoles(last, roles)) return;
    await this.members.replaceFromProvider(user, roles);
    this.written.delete(user);
    this.written.set(user, roles);
    if (this.written.size > REMEMBERED_USERS) this.written.delete(this.written.keys().next().value!);
  }

  /** At sign-in the provider's word is written whatever this process remembers (another replica may have written since). */
  async recordNow(user: string, roles: TeamRole[]): Promise<void> {
    this.written.delete(user);
    await this.record(user, roles);
  }
}
