/**
 * A fake of the Slack Web API methods Longhaul calls (chat.postMessage, chat.update,
 * chat.postEphemeral, users.info), over HTTP, for Slack's own client library to talk to. Records every call.
 */
import type http from 'node:http';
import { listenLocally, type LocalServer } from './http-server';

export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, any>;
}

/** A workspace member as users.info describes them. */
export interface SlackPerson {
  email?: string;
  emailConfirmed?: boolean;
  deleted?: boolean;
  bot?: boolean;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** The workspace's members by Slack user id, for users.info; anyone else is `user_not_found`. */
  readonly people = new Map<string, SlackPerson>();
  private server?: LocalServer;
  private nextTs = 1;
  url = '';

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async start(): Promise<void> {
    this.server = await listenLocally((req, res) => void this.handle(req, res));
    this.url = `${this.server.url}/api`;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const args: Record<string, any> = {};
    if ((req.headers['content-type'] ?? '').includes('application/json')) Object.assign(args, JSON.parse(raw || '{}'));
    else {
      for (const [k, v] of new URLSearchParams(raw)) {
        try {
          args[k] = k === 'blocks' || k === 'attachments' ? JSON.parse(v) : v;
        } catch {
          args[k] = v;
        }
      }
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? args.token;
    this.calls.push({ method, token, args });
    const reply = (body: Record<string, unknown>) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (method) {
      case 'chat.postMessage':
        return reply({ ok: true, channel: args.channel, ts: `1700000000.${String(this.nextTs++).padStart(6, '0')}`, message: { text: args.text } });
      case 'chat.update':
        return reply({ ok: true, channel: args.channel, ts: args.ts, text: args.text });
      case 'chat.postEphemeral':
        return reply({ ok: true, message_ts: `1700000001.${String(this.nextTs++).padStart(6, '0')}` });
      case 'users.info': {
        const person = this.people.get(String(args.user));
        if (!person) return reply({ ok: false, error: 'user_not_found' });
        return reply({
          ok: true,
          user: { id: args.user, deleted: person.deleted ?? false, is_bot: person.bot ?? false, is_email_confirmed: person.emailConfirmed ?? false, profile: { email: person.email } },
        });
      }
      default:
        return reply({ ok: false, error: 'unknown_method' });
    }
  }
}
