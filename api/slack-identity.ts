/**
 * Which Longhaul user clicked a button in Slack: the explicit mapping (SLACK_USERS) first, else — with
 * SLACK_MATCH_EMAIL — the one Longhaul user whose verified email (recorded at sign-in) is the Slack account's
 * confirmed email. Nobody is guessed: no mapping, no confirmed email, or no single user with it, and the click
 * maps to no one (the Slack route refuses it). The answer is a Principal with the user's stored roles, so the
 * decision is checked like any other.
 */
import type { Principal } from '../contract/identity';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { SlackWebDirectory, type SlackDirectory } from '../shared/slack/directory';
import type { Store } from '../shared/store';
import type { Authenticator } from './auth';

export type SlackMatch = 'explicit' | 'email';

export class SlackIdentities {
  constructor(
    private readonly deps: {
      /** SLACK_USERS: Slack user id → Longhaul user. */
      explicit: ReadonlyMap<string, string>;
      /** Asked for a confirmed email when the explicit mapping has no answer; absent: match by email is off. */
      directory?: SlackDirectory;
      users: Pick<Store['users'], 'byEmail'>;
      auth: Pick<Authenticator, 'principalOf'>;
      logger: Logger;
    },
  ) {}

  /** The Longhaul user behind a Slack account, and how they were found; undefined when no one is. */
  async userOf(slackUser: string): Promise<{ user: string; match: SlackMatch } | undefined> {
    if (!slackUser) return undefined;
    const explicit = this.deps.explicit.get(slackUser);
    if (explicit) return { user: explicit, match: 'explicit' };
    if (!this.deps.directory) return undefined;
    let email: string | undefined;
    try {
      email = await this.deps.directory.confirmedEmail(slackUser);
    } catch (err) {
      // Slack unreachable or the scope missing: nobody is matched (fail closed); the logs say why.
      this.deps.logger.warn({ err, slackUser }, 'could not look up a Slack user');
      return undefined;
    }
    const found = email ? await this.deps.users.byEmail(email) : undefined;
    return found ? { user: found.id, match: 'email' } : undefined;
  }

  /** The caller a Slack click acts as (their stored roles, no narrowing scopes); undefined when unmapped. */
  async principalOf(slackUser: string): Promise<Principal | undefined> {
    const found = await this.userOf(slackUser);
    return found && this.deps.auth.principalOf(found.user, 'token');
  }
}

/** As Slack is configured: SLACK_USERS, and Slack's `users.info` when SLACK_MATCH_EMAIL is on. */
export function slackIdentitiesFor(slack: NonNullable<Config['slack']>, deps: { users: Pick<Store['users'], 'byEmail'>; auth: Pick<Authenticator, 'principalOf'>; logger: Logger }): SlackIdentities {
  const directory = slack.matchEmail ? new SlackWebDirectory({ botToken: slack.botToken, apiUrl: slack.apiUrl }) : undefined;
  return new SlackIdentities({ explicit: slack.users, directory, ...deps });
}
