/**
 * Where approval requests are announced. Slack when configured (through Slack's own Web API
 * client); otherwise nothing — the web UI and API always show pending approvals anyway.
 */
import { WebClient } from '@slack/web-api';
import type { Config } from '../config';
import type { ApprovalRecord } from '../store/approvals';
import type { RunRecord } from '../store/runs';
import type { SubagentOrigin } from '../../contract/api';
import { approvalMessage } from './approval-message';

export interface ApprovalNotifier {
  /**
   * Posts the request; returns where, so later updates can edit the same message. `origin`: the sub-agent that
   * asks, when the approval's run is a child run (the message says which, and of which run).
   */
  announce(approval: ApprovalRecord, run: RunRecord, origin?: SubagentOrigin | null): Promise<{ channel: string; ts: string } | null>;
  /** Edits the posted message to show the outcome. */
  update(approval: ApprovalRecord, run: RunRecord, origin?: SubagentOrigin | null): Promise<void>;
  /** A message only `slackUser` sees, in `channel`. */
  tell(channel: string, slackUser: string, text: string): Promise<void>;
  /** A direct message to the Slack account of Longhaul user `user`, if SLACK_USERS maps one; says whether it was sent. */
  directMessage(user: string, text: string): Promise<boolean>;
}

export const silentNotifier: ApprovalNotifier = {
  announce: async () => null,
  update: async () => undefined,
  tell: async () => undefined,
  directMessage: async () => false,
};

export class SlackNotifier implements ApprovalNotifier {
  private readonly client: WebClient;

  constructor(
    private readonly opts: {
      botToken: string;
      /** Where requests go: a team's own channel (`teamChannels`), else `channel`. */
      channel: string;
      teamChannels?: ReadonlyMap<string, string>;
      apiUrl?: string;
      publicUrl?: string;
      retries?: number;
      users?: Map<string, string>;
    },
  ) {
    this.client = new WebClient(opts.botToken, {
      slackApiUrl: opts.apiUrl ? `${opts.apiUrl.replace(/\/$/, '')}/` : undefined,
      // In activities Temporal owns retries; the API side retries a little on its own.
      retryConfig: { retries: opts.retries ?? 0 },
      timeout: 10_000,
    });
  }

  /** A team run's requests go to its team's channel, so a team's approvers see its approvals and not another team's. */
  channelFor(run: Pick<RunRecord, 'team'>): string {
    return (run.team !== null && this.opts.teamChannels?.get(run.team)) || this.opts.channel;
  }

  async announce(approval: ApprovalRecord, run: RunRecord, origin?: SubagentOrigin | null) {
    const res = await this.client.chat.postMessage({ channel: this.channelFor(run), ...approvalMessage(approval, run, this.opts.publicUrl, origin) } as never);
    return { channel: String(res.channel), ts: String(res.ts) };
  }

  async update(approval: ApprovalRecord, run: RunRecord, origin?: SubagentOrigin | null) {
    if (!approval.slack) return;
    await this.client.chat.update({ channel: approval.slack.channel, ts: approval.slack.ts, ...approvalMessage(approval, run, this.opts.publicUrl, origin) } as never);
  }

  async tell(channel: string, slackUser: string, text: string) {
    await this.client.chat.postEphemeral({ channel, user: slackUser, text });
  }

  async directMessage(user: string, text: string) {
    const slackUser = [...(this.opts.users ?? new Map<string, string>())].find(([, name]) => name === user)?.[0];
    if (!slackUser) return false;
    await this.client.chat.postMessage({ channel: slackUser, text });
    return true;
  }
}

/** Slack when SLACK_* is configured, else the silent notifier. `retries`: Slack client retries. */
export function notifierFromConfig(config: Config, retries = 0): ApprovalNotifier {
  if (!config.slack) return silentNotifier;
  return new SlackNotifier({ botToken: config.slack.botToken, channel: config.slack.channel, teamChannels: config.slack.teamChannels, apiUrl: config.slack.apiUrl, publicUrl: config.api.publicUrl, retries, users: config.slack.users });
}
