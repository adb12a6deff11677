/**
 * The CLI's commands that run Longhaul on this machine rather than talk to an API: `dev`, `worker`,
 * `api` and `init`. The server code is loaded only when one of them runs, so `longhaul runs …`
 * stays light (type imports only, at the top; the modules themselves are required where used).
 */
import type * as WorkerProcess from '../../worker/run-worker-process';
import type * as PackagedBundle from '../../worker/packaged-bundle';
import { redactText } from '../../shared/redact';
import type * as Dev from './dev';
import type * as InitProject from './init-project';
import type * as LoadEntry from './load-entry';

export const LOCAL_COMMANDS = ['dev', 'worker', 'api', 'init'] as const;
export type LocalCommand = (typeof LOCAL_COMMANDS)[number];

export const LOCAL_USAGE = `  dev <entry>                                                        Temporal, API + web UI and a worker for your entry (restarts on change)
  worker [<entry>]                                                   a worker process serving your entry's agents (or only the default agent)
  api                                                                the API and web UI process
  init <dir> [--longhaul SPEC]                                       write a starter project (SPEC: the longhaul dependency, default ^version)`;

export function isLocalCommand(command: string): command is LocalCommand {
  return (LOCAL_COMMANDS as readonly string[]).includes(command);
}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Errors whose message says all: a bad worker entry, a bad definition, a bad configuration. */
const EXPLAINED_ERRORS = new Set(['WorkerEntryError', 'AgentDefinitionError', 'ConfigError']);

/** Exit codes as the CLI's: 0 ok, 1 the process failed, 2 usage. */
const FAILED = 1;
const USAGE = 2;

export async function runLocalCommand(command: LocalCommand, args: string[], opts: { longhaul?: string }, io: Io): Promise<number> {
  const usage = (message: string) => {
    io.err(`${message}\n\nUsage:\n${LOCAL_USAGE}`);
    return USAGE;
  };
  switch (command) {
    case 'init': {
      if (args.length !== 1) return usage('init takes one folder');
      const { initProject, InitRefusedError } = require('./init-project') as typeof InitProject;
      try {
        const files = initProject(args[0]!, { longhaul: opts.longhaul });
        io.out(`Wrote ${files.join(', ')} in ${args[0]}.\n\n  cd ${args[0]}\n  npm install && npm run dev\n  npm test\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof InitRefusedError)) throw err;
        io.err(err.message);
        return USAGE;
      }
    }
    case 'dev':
      if (args.length !== 1) return usage('dev takes the worker entry (a file whose default export is defineWorker(...))');
      return serve(io, async () => {
        (require('../../worker/packaged-bundle') as typeof PackagedBundle).usePackagedWorkflowBundle();
        await (require('./dev') as typeof Dev).runDev(args[0]!);
      });
    case 'worker':
      if (args.length > 1) return usage('worker takes at most the worker entry');
      return serve(io, async () => {
        (require('../../worker/packaged-bundle') as typeof PackagedBundle).usePackagedWorkflowBundle();
        const definition = args[0] ? await (require('./load-entry') as typeof LoadEntry).loadWorkerEntry(args[0]) : undefined;
        await (require('../../worker/run-worker-process') as typeof WorkerProcess).runWorkerProcess({ definition });
      });
    case 'api':
      if (args.length !== 0) return usage('api takes no arguments');
      // api/main.ts is the process: it serves until SIGTERM/SIGINT and exits itself.
      require('../../api/main');
      return new Promise<number>(() => undefined);
  }
}

/** Runs a server until it returns (drained), then exits: open handles must not keep a stopped server alive. */
async function serve(io: Io, body: () => Promise<void>): Promise<number> {
  let code = 0;
  try {
    await body();
  } catch (err) {
    // Not through a logger: still never a URL's credentials or a configured secret. The developer's
    // own mistakes (entry, definition, configuration) are said in a line; anything else with its stack.
    const explained = err instanceof Error && EXPLAINED_ERRORS.has(err.name);
    io.err(redactText(err instanceof Error ? (explained ? `${err.name}: ${err.message}` : (err.stack ?? err.message)) : String(err)));
    code = FAILED;
  }
  process.exit(code);
}
