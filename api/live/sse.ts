/**
 * GET /api/runs/:id/stream — the same live feed as Server-Sent Events, for clients that prefer
 * plain HTTP. `id:` is the event seq, so a reconnecting EventSource resumes with Last-Event-ID
 * (or `?after=`); comments keep idle connections open; a client too far behind is disconnected
 * (its EventSource reconnects and resumes).
 */
import type { Request, Response } from 'express';
import type { Config } from '../../shared/config';
import type { Store } from '../../shared/store';
import { ApiError } from '../errors';
import { principalOf } from '../auth';
import type { RunService } from '../run-service';
import type { LiveHub } from './live-hub';
import type { Presence } from './presence';
import type { Access } from '../access';
import type { CredentialWatch } from './credential-watch';
import { Subscription, type LiveMessage } from './subscription';

export function sseHandler(deps: { config: Config; store: Store; access: Access; credentials: CredentialWatch; runs: RunService; hub: LiveHub; presence: Presence }) {
  const { config, store, access, credentials, runs, hub, presence } = deps;
  return async (req: Request, res: Response): Promise<void> => {
    /** The caller as of the last keep-alive beat (credential-watch.ts). */
    let caller = principalOf(req);
    const user = caller.user;
    const run = await runs.getVisible(caller, req.params.id as string);
    const lastEventId = req.header('last-event-id');
    if (Array.isArray(req.query.after)) throw new ApiError(400, 'invalid_query', 'give after at most once');
    const afterParam = typeof req.query.after === 'string' ? req.query.after : undefined;
    const candidates = [lastEventId, afterParam].filter((v): v is string => v !== undefined);
    for (const v of candidates) if (!/^\d+$/.test(v)) throw new ApiError(400, 'invalid_query', 'after and Last-Event-ID must be whole numbers');
    const after = Math.max(0, ...candidates.map(Number));

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    const send = (msg: LiveMessage, json: string): boolean => {
      if (res.writableEnded || res.destroyed) return false;
      if (res.writableLength > config.api.wsMaxBufferedBytes) {
        res.end();
        return false;
      }
      const id = msg.type === 'event' ? `id: ${msg.event.seq}\n` : '';
      res.write(`${id}event: ${msg.type}\ndata: ${json}\n\n`);
      return true;
    };
    const sub = new Subscription(run.id, after, { hub, store, snapshot: () => runs.view(caller, run.id), watch: () => presence.watch(run.id, user) }, send);
    // Each beat asks again who the caller is. Opened with a key or a session that has since ended: the stream ends
    // (its EventSource's reconnect is refused). Roles changed so that the run is no longer theirs to see: an error
    // `run_access_ended`, and the stream ends (its reconnect is a 404).
    const recheck = async () => {
      const now = await credentials.recheck(caller);
      if (res.writableEnded) return;
      if ('ended' in now) return void res.end();
      if (!now.changed) return;
      caller = now.caller;
      const current = await store.runs.get(run.id);
      if (current && access.canSee(caller, current)) return;
      sub.stop();
      const ended: LiveMessage = { type: 'error', code: 'run_access_ended', message: 'you may no longer see this run; its feed has stopped', runId: run.id };
      send(ended, JSON.stringify(ended));
      res.end();
    };
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
      void recheck().catch(() => undefined); // the database is unreachable: the next beat asks again
    }, Math.min(15, config.api.wsPingIntervalSec) * 1000); // proxies drop connections idle for long
    res.on('close', () => {
      clearInterval(heartbeat);
      sub.stop();
    });
    await sub.start().catch(() => res.end());
  };
}
