/**
 * Clicks on the buttons Longhaul posted to Slack, as Slack sends them: a block_actions payload built from the
 * posted message's own button, form-encoded and signed (v0) with the signing secret, to /slack/interactions.
 */
import { slackSignature } from '../../shared/slack/verify-signature';
import type { SlackCall } from './fake-slack';

export type SlackAction = 'longhaul_approve' | 'longhaul_reject';

/** The posted message's button for `actionId`. */
export function slackButton(posted: SlackCall, actionId: SlackAction) {
  const actions = (posted.args.blocks as any[]).find((b) => b.type === 'actions');
  return actions.elements.find((e: any) => e.action_id === actionId);
}

/** `slackUser` clicks `actionId` on `posted`; `secret`/`timestamp` to forge or age the request. */
export function clickSlackButton(
  apiUrl: string,
  posted: SlackCall,
  actionId: SlackAction,
  slackUser: string,
  opts: { secret: string; timestamp?: number },
): Promise<Response> {
  const b = slackButton(posted, actionId);
  const payload = {
    type: 'block_actions',
    user: { id: slackUser },
    channel: { id: posted.args.channel },
    container: { type: 'message', channel_id: posted.args.channel, message_ts: '1700000000.000001' },
    actions: [{ action_id: b.action_id, value: b.value, block_id: 'x', type: 'button' }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return fetch(`${apiUrl}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(opts.secret, timestamp, body),
    },
    body,
  });
}
