/**
 * Which Longhaul user a Slack click is: the explicit mapping first, then one user with the Slack account's
 * confirmed email; nothing guessed, and a Slack outage maps no one.
 */
import { SlackIdentities } from '../../api/slack-identity';
import { createLogger } from '../../shared/logger';
import type { SlackDirectory } from '../../shared/slack/directory';

describe('Slack identities', () => {
  const emails = new Map([['U_DAVE', 'dave@example.com'], ['U_NOBODY', 'nobody@example.com'], ['U_ALICE', 'someone-else@example.com']]);
  const directory: SlackDirectory = {
    confirmedEmail: async (u) => {
      if (u === 'U_DOWN') throw new Error('slack is down');
      return emails.get(u);
    },
  };
  const users = { byEmail: async (email: string) => (email === 'dave@example.com' ? { id: 'dave', email, name: null, updatedAt: '' } : undefined) };
  const auth = { principalOf: async (user: string) => ({ user, roles: [{ team: 'payments', role: 'approver' as const }], scopes: 'all' as const, method: 'token' as const }) };
  const logger = createLogger({ level: 'silent', name: 'test' });
  const explicit = new Map([['U_ALICE', 'alice']]);

  it('takes SLACK_USERS first, then a confirmed email of one user', async () => {
    const ids = new SlackIdentities({ explicit, directory, users, auth, logger });
    expect(await ids.userOf('U_ALICE')).toEqual({ user: 'alice', match: 'explicit' });
    expect(await ids.userOf('U_DAVE')).toEqual({ user: 'dave', match: 'email' });
    expect(await ids.principalOf('U_DAVE')).toEqual({ user: 'dave', roles: [{ team: 'payments', role: 'approver' }], scopes: 'all', method: 'token' });
  });

  it('maps no one without a match, without an email, when Slack fails, or with matching by email off', async () => {
    const ids = new SlackIdentities({ explicit, directory, users, auth, logger });
    expect(await ids.userOf('U_NOBODY')).toBeUndefined();
    expect(await ids.userOf('U_UNKNOWN')).toBeUndefined();
    expect(await ids.userOf('U_DOWN')).toBeUndefined();
    expect(await ids.userOf('')).toBeUndefined();
    expect(await ids.principalOf('U_NOBODY')).toBeUndefined();
    const off = new SlackIdentities({ explicit, users, auth, logger });
    expect(await off.userOf('U_DAVE')).toBeUndefined();
    expect(await off.userOf('U_ALICE')).toEqual({ user: 'alice', match: 'explicit' });
  });
});
