/**
 * POST /slack/interactions: Approve / Reject buttons clicked in Slack. Every request must carry a
 * valid v0 signature from no more than five minutes ago (else 401, nothing happens). Slack wants an
 * answer within three seconds, so the request is acknowledged first; then the click is mapped to a
 * Longhaul user, checked with the same permissions as the API, recorded, signalled, and the
 * message updated. Whoever cannot decide is told so privately, and nothing changes.
 */
import express, { Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import { APPROVE_ACTION, REJECT_ACTION, type ApprovalButtonValue } from '../../shared/slack/approval-message';
import type { ApprovalNotifier } from '../../shared/slack/notifier';
import { verifySlackSignature } from '../../shared/slack/verify-signature';
import type { Store } from '../../shared/store';
import type { Decision } from '../../contract/run';
import { ApiError } from '../errors';
import type { HumanService } from '../human-service';
import type { SlackIdentities } from '../slack-identity';

interface BlockActionsPayload {
  type: string;
  user?: { id?: string };
  channel?: { id?: string };
  container?: { channel_id?: string };
  actions?: { action_id?: string; value?: string }[];
}

export function slackRouter(deps: {
  slack: NonNullable<Config['slack']>;
  humans: HumanService;
  store: Store;
  notifier: ApprovalNotifier;
  logger: Logger;
  identities: SlackIdentities;
}): Router {
  const { slack, humans, store, notifier, logger, identities } = deps;
  const router = Router();

  async function handleClick(payload: BlockActionsPayload): Promise<void> {
    const action = payload.actions?.[0];
    if (payload.type !== 'block_actions' || !action || (action.action_id !== APPROVE_ACTION && action.action_id !== REJECT_ACTION)) return;
    const slackUser = payload.user?.id ?? '';
    const channel = payload.channel?.id ?? payload.container?.channel_id ?? slack.channel;
    const tell = (text: string) => notifier.tell(channel, slackUser, text);
    let target: ApprovalButtonValue;
    try {
      target = JSON.parse(action.value ?? '') as ApprovalButtonValue;
    } catch {
      return tell('That button is not one Longhaul posted, so nothing changed.');
    }
    const decision: Decision = action.action_id === APPROVE_ACTION ? 'approve' : 'reject';
    // The Longhaul user behind the Slack account (SLACK_USERS, or the same verified email): it decides, if it may.
    const caller = await identities.principalOf(slackUser);
    if (!caller) {
      await humans.refuseUnknownUser(target.approvalId, `slack:${slackUser}`, 'slack', decision);
      return tell('Your Slack account is not linked to a Longhaul user (by SLACK_USERS or a verified email), so nothing changed.');
    }
    try {
      const { approval, repeated } = await humans.decide({ runId: target.runId, approvalId: target.approvalId, caller, decision, channel: 'slack', slackUser });
      if (repeated) return tell(`You already ${approval.status} this; nothing changed.`);
      const run = await store.runs.get(approval.runId);
      if (run) await notifier.update(approval, run, await store.tree.originOf(run.id));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 403 || err.code === 'run_not_found') return tell('You may not decide approvals on this run, so nothing changed.');
      if (err.status === 404) return tell('That approval no longer exists, so nothing changed.');
      return tell(`${err.message[0]!.toUpperCase()}${err.message.slice(1)}; nothing changed.`);
    }
  }

  router.post('/interactions', express.raw({ type: () => true, limit: '256kb' }), (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySlackSignature({
      signingSecret: slack.signingSecret,
      timestamp: req.header('x-slack-request-timestamp'),
      signature: req.header('x-slack-signature'),
      rawBody,
    });
    if (check !== 'ok') {
      logger.warn({ check }, 'refused a Slack request');
      const code = check === 'stale' ? 'stale_request' : 'invalid_signature';
      res.status(401).json({ error: { code, message: check === 'stale' ? 'request timestamp is too old' : 'bad or missing Slack signature' } });
      return;
    }
    let payload: BlockActionsPayload;
    try {
      payload = JSON.parse(new URLSearchParams(rawBody.toString('utf8')).get('payload') ?? '') as BlockActionsPayload;
    } catch {
      res.status(400).json({ error: { code: 'invalid_request', message: 'expected a form body with a JSON payload' } });
      return;
    }
    res.status(200).end();
    handleClick(payload).catch((err: unknown) => logger.error({ err }, 'handling a Slack click failed'));
  });

  return router;
}
