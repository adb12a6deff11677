#!/usr/bin/env node
/**
 * `longhaul`: the command line on the typed client. LONGHAUL_URL and LONGHAUL_TOKEN say where and
 * who; `--json` prints machine-readable output (NDJSON for streams). Exit codes are for scripts:
 *   0  done (with --watch / watch: the run completed)
 *   1  the watched run failed or was cancelled
 *   2  usage error
 *   3  the API refused the request (4xx); its error code is printed
 *   4  the server could not be reached, or failed (5xx)
 *   5  while watching, the credential stopped working (LONGHAUL_TOKEN revoked or expired)
 *   6  while watching, you may no longer see the run (your roles changed)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLonghaulClient, LonghaulError, type ApprovalView, type LonghaulClient, type RunStatus } from '..';
import { APPROVAL_POLICIES, WAITING_PAGE, type ApprovalPolicy } from '../../contract/run';
import { isLocalCommand, LOCAL_USAGE, runLocalCommand } from './local-commands';
import { printWatch } from './print-watch';
import { keysCommand, KeysUsageError, KEYS_USAGE } from './keys-command';
import { forTerminal, TerminalStream } from './terminal-text';

import { EXIT } from './exit-codes';

export { EXIT };

const USAGE = `Usage: longhaul <command> [options]

Commands:
  run "<goal>" [--model M] [--approvals none|write|all] [--watch]   start a run (and follow it); --team T: on team T (--team none: personal)
  run --agent NAME [--input JSON|@file] ["<goal>"] [--watch]         start a run of an agent, with its structured input
  agents                                                             the agents, their versions and the workers serving them
  upgrade <run>                                                      move a run to its agent's current version at its next turn
  runs [--status s1,s2] [--limit N] [--team T]                       list your runs (and your teams'), or only team T's
  watch <run>                                                        follow a run: text and events as they happen, its sub-agents indented
  approvals                                                          what waits for your decision
  approve <run> <approval> [--comment C]                             approve a pending request
  reject <run> <approval> [--comment C]                              reject it
  answer <run> <text>                                                answer the agent's question
  message <run> <text> [--max-steps N] [--watch]                     follow up: joins a running run, continues an ended one
  cancel <run>                                                       cancel a run
${KEYS_USAGE}
${LOCAL_USAGE}

Options: --json (machine-readable output), --allow-http (send the token over plain HTTP to another host), --help
Environment: LONGHAUL_URL (default http://127.0.0.1:3000), LONGHAUL_TOKEN, LONGHAUL_ALLOW_HTTP=1 (as --allow-http)
Exit codes: 0 ok, 1 watched run failed or was cancelled, 2 usage, 3 refused by the API, 4 server unreachable or failing,
  5 the token stopped working while watching, 6 you may no longer see the watched run`;

class UsageError extends Error {}

/** Output for people: everything a run wrote passes through forTerminal; streamed text may cut a sequence. */
function humanIo(raw: Io): Io {
  const stream = new TerminalStream();
  const flush = () => {
    const rest = stream.flush();
    if (rest) raw.write(rest);
  };
  return {
    out: (line) => {
      flush();
      raw.out(forTerminal(line));
    },
    write: (text) => raw.write(stream.push(text)),
    err: (line) => {
      flush();
      raw.err(forTerminal(line));
    },
  };
}

/** Plain HTTP to anything but this machine: a token sent there crosses a network in the clear. */
function sendsTokenInTheClear(baseUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return false; // the client reports the bad URL itself
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return url.protocol === 'http:' && !loopback;
}

interface Io {
  out: (line: string) => void;
  write: (text: string) => void;
  err: (line: string) => void;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io, signal?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        watch: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        model: { type: 'string' },
        approvals: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        comment: { type: 'string' },
        'max-steps': { type: 'string' },
        agent: { type: 'string' },
        input: { type: 'string' },
        team: { type: 'string' },
        'allow-http': { type: 'boolean', default: false },
        scopes: { type: 'string' },
        expires: { type: 'string' },
        owner: { type: 'string' },
        longhaul: { type: 'string' },
      },
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values: o, positionals } = parsed;
  const [command, ...args] = positionals;
  if (o.help || !command) {
    (o.help ? io.out : io.err)(USAGE);
    return o.help ? EXIT.ok : EXIT.usage;
  }
  // Commands that run Longhaul here (dev, worker, api, init) need no API to talk to.
  if (isLocalCommand(command)) return runLocalCommand(command, args, { longhaul: o.longhaul }, io);
  const baseUrl = env.LONGHAUL_URL || 'http://127.0.0.1:3000';
  const token = env.LONGHAUL_TOKEN || undefined;
  if (token && sendsTokenInTheClear(baseUrl) && !o['allow-http'] && env.LONGHAUL_ALLOW_HTTP !== '1') {
    io.err(`refusing to send LONGHAUL_TOKEN over plain HTTP to ${new URL(baseUrl).host}: anyone on the way could read it. Use https://, or pass --allow-http (LONGHAUL_ALLOW_HTTP=1) if the network is yours.`);
    return EXIT.usage;
  }
  const client = createLonghaulClient({ baseUrl, token });
  // Text from runs reaches a terminal here: human output goes through forTerminal; JSON as it is.
  if (!o.json) io = humanIo(io);
  const print = (value: unknown, human: string) => io.out(o.json ? JSON.stringify(value) : human);
  try {
    return await run(client, command, args, o, print, io, signal);
  } catch (err) {
    if (err instanceof UsageError || err instanceof KeysUsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof LonghaulError) {
      io.err(o.json ? JSON.stringify({ error: { status: err.status, code: err.code, message: err.message } }) : `error: ${err.message} (${err.code})`);
      return err.status === 0 || err.status >= 500 ? EXIT.unreachable : EXIT.refused;
    }
    throw err;
  }
}

async function run(
  client: LonghaulClient,
  command: string,
  args: string[],
  o: { json: boolean; watch: boolean; model?: string; approvals?: string; status?: string; limit?: string; comment?: string; 'max-steps'?: string; agent?: string; input?: string; team?: string; scopes?: string; expires?: string; owner?: string },
  print: (value: unknown, human: string) => void,
  io: Io,
  signal?: AbortSignal,
): Promise<number> {
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new UsageError(`${command} takes ${what}`);
  };
  switch (command) {
    case 'run': {
      // With --input the goal is optional (the run's title); otherwise it is what the run does.
      if (o.input === undefined) need(1, 'one goal (quote it), or --input');
      else if (args.length > 1) throw new UsageError('run takes at most one goal (quote it)');
      const approvals = o.approvals as ApprovalPolicy | undefined;
      if (approvals !== undefined && !APPROVAL_POLICIES.includes(approvals)) throw new UsageError(`--approvals is ${APPROVAL_POLICIES.join(', ')}`);
      const input = o.input === undefined ? undefined : readInput(o.input);
      const created = await client.runs.start({
        ...(args[0] !== undefined && { goal: args[0] }),
        ...(o.agent && { agent: o.agent }),
        ...(input !== undefined && { input: input.value }),
        ...(o.model && { model: o.model }),
        ...(approvals && { approvals }),
        // Without --team the server picks the one team you may start runs on, or none; `none` asks for a personal run.
        ...(o.team !== undefined && { team: o.team === 'none' ? null : o.team }),
      });
      print(created, created.id);
      return o.watch ? printWatch(client, created.id, { json: o.json, ...io }, signal) : EXIT.ok;
    }
    case 'runs': {
      need(0, 'no arguments');
      const limit = o.limit === undefined ? undefined : Number(o.limit);
      if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError('--limit is a whole number');
      const status = o.status?.split(',').map((s) => s.trim()) as RunStatus[] | undefined; // the server names any unknown status
      const page = await client.runs.list({ status, limit, ...(o.team !== undefined && { team: o.team }) });
      if (o.json) io.out(JSON.stringify(page));
      else for (const r of page.runs) io.out(`${r.id}  ${r.status.padEnd(16)} $${r.usage.costUsd.toFixed(4)}  ${r.goal.replace(/\s+/g, ' ').slice(0, 60)}${r.childCount ? `  (+${r.childCount} sub-agent runs)` : ''}`);
      return EXIT.ok;
    }
    case 'watch':
      need(1, 'a run id');
      return printWatch(client, args[0]!, { json: o.json, ...io }, signal);
    case 'approvals': {
      need(0, 'no arguments');
      // Every page: each request is bounded, the command lists all that waits.
      const approvals: ApprovalView[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.approvals.list({ limit: WAITING_PAGE.max, cursor });
        approvals.push(...page.approvals);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      if (o.json) io.out(JSON.stringify({ approvals }));
      else for (const a of approvals) io.out(`${a.runId}  ${a.approvalId}  ${a.tool ?? a.kind}  expires ${a.expiresAt}  ${a.reason}`);
      return EXIT.ok;
    }
    case 'approve':
    case 'reject': {
      need(2, 'a run id and an approval id');
      const decided = await client.approvals.decide(args[0]!, args[1]!, { decision: command, ...(o.comment && { comment: o.comment }) });
      print(decided, `${decided.approvalId} ${decided.status}`);
      return EXIT.ok;
    }
    case 'answer': {
      need(2, 'a run id and the answer');
      const answered = await client.input.answer(args[0]!, args[1]!);
      print(answered, `answered ${answered.requestId}`);
      return EXIT.ok;
    }
    case 'message': {
      need(2, 'a run id and the message');
      const maxSteps = o['max-steps'] === undefined ? undefined : Number(o['max-steps']);
      if (maxSteps !== undefined && !Number.isInteger(maxSteps)) throw new UsageError('--max-steps is a whole number');
      // Follow from here: what the run did before this message (its earlier ending included) is old news.
      const { lastSeq } = await client.runs.get(args[0]!);
      const sent = await client.runs.message(args[0]!, { text: args[1]!, ...(maxSteps !== undefined && { limits: { maxSteps } }) });
      print(sent, `${sent.messageId} ${sent.continued ? 'continues the run' : 'joins at the next turn'}`);
      return o.watch ? printWatch(client, sent.runId, { json: o.json, ...io }, signal, lastSeq) : EXIT.ok;
    }
    case 'agents': {
      need(0, 'no arguments');
      const { agents } = await client.agents.list();
      if (o.json) io.out(JSON.stringify({ agents }));
      else {
        for (const a of agents) {
          const workers = a.workers.length ? `${a.workers.length} worker${a.workers.length === 1 ? '' : 's'}` : 'no live worker';
          io.out(`${a.name}  ${a.currentVersion ?? '(unpublished)'}  ${a.versions.length} version${a.versions.length === 1 ? '' : 's'}, ${workers}  ${a.description.replace(/\s+/g, ' ').slice(0, 80)}`);
        }
      }
      return EXIT.ok;
    }
    case 'upgrade': {
      need(1, 'a run id');
      const upgrading = await client.runs.upgrade(args[0]!);
      print(upgrading, `${upgrading.id} moves from ${upgrading.agent} ${upgrading.from} to its current version at its next turn`);
      return EXIT.ok;
    }
    case 'cancel': {
      need(1, 'a run id');
      const cancelled = await client.runs.cancel(args[0]!);
      print(cancelled, `${cancelled.id} ${cancelled.status}`);
      return EXIT.ok;
    }
    case 'keys':
      await keysCommand(client, args, o, io.out);
      return EXIT.ok;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/**
 * `--input`: JSON given inline, or `@file` read relative to the working directory. Bad JSON or an unreadable
 * file is a usage error (exit 2) that says which.
 */
function readInput(arg: string): { value: unknown } {
  let text = arg;
  let from = '--input';
  if (arg.startsWith('@')) {
    const file = path.resolve(process.cwd(), arg.slice(1));
    from = `--input ${arg}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`${from}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    throw new UsageError(`${from} is not valid JSON: ${(err as Error).message}`);
  }
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  main(process.argv.slice(2), process.env, { out: (l) => process.stdout.write(`${l}\n`), write: (t) => process.stdout.write(t), err: (l) => process.stderr.write(`${l}\n`) }, controller.signal).then(
    (code) => {
      process.exitCode = controller.signal.aborted ? 130 : code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
