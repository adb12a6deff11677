/**
 * Who a Slack account is, asked of Slack itself (`users.info`): the account's email, but only when Slack says the
 * email is confirmed and the account is a live person (not deleted, not a bot). The bot token needs the
 * `users:read` and `users:read.email` scopes; without them there is no email and nobody is matched by one.
 */
import { WebClient } from '@slack/web-api';

export interface SlackDirectory {
  /** The confirmed email of a Slack user; undefined when Slack gives none (unconfirmed, deleted, a bot, an error). */
  confirmedEmail(slackUser: string): Promise<string | undefined>;
}

interface SlackUserInfo {
  deleted?: boolean;
  is_bot?: boolean;
  is_email_confirmed?: boolean;
  profile?: { email?: string };
}

export class SlackWebDirectory implements SlackDirectory {
  private readonly client: WebClient;

  constructor(opts: { botToken: string; apiUrl?: string }) {
    this.client = new WebClient(opts.botToken, {
      slackApiUrl: opts.apiUrl ? `${opts.apiUrl.replace(/\/$/, '')}/` : undefined,
      retryConfig: { retries: 1 },
      timeout: 5_000,
    });
  }

  async confirmedEmail(slackUser: string): Promise<string | undefined> {
    const res = await this.client.users.info({ user: slackUser });
    const user = res.user as SlackUserInfo | undefined;
    if (!user || user.deleted || user.is_bot || user.is_email_confirmed !== true) return undefined;
    const email = user.profile?.email?.trim();
    return email ? email : undefined;
  }
}
