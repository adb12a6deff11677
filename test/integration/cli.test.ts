/**
 * The `longhaul` command line, run as a process against a real API: start and follow a run, list,
 * decide an approval from a second process while the first watches, answer, cancel, and the exit
 * codes a shell script relies on (completed 0, failed 1, usage 2, refused 3, unreachable 4).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const ALICE = 'alice-token-0123456789';
/** A member of the payments team (TEAM_ROLES). */
const BOB = 'bob-token-01234567890';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('longhaul CLI', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob`, TEAM_ROLES: 'bob:payments:member', ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', ACTIVITY_MAX_ATTEMPTS: '1' },
    });
    h.defaultToken = ALICE;
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  /** Runs `longhaul …` as its own process; `onOutput` sees stdout as it grows. */
  function longhaul(args: string[], opts: { env?: Record<string, string>; onOutput?: (stdout: string) => void } = {}): Promise<Result> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, LONGHAUL_URL: h.api.url, LONGHAUL_TOKEN: ALICE, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onOutput?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('starts a run and follows it to the end, streaming its text (exit 0)', async () => {
    fake.script('[cli-ok]', (req) =>
      req.assistantTurns === 0
        ? { text: 'Listing files first. ', chunkChars: 3, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'All done, nothing to report.', chunkChars: 3, delayMs: 5 },
    );
    const r = await longhaul(['run', 'report back [cli-ok]', '--approvals', 'none', '--watch']);
    expect(r.code).toBe(0);
    const [id] = r.stdout.split('\n');
    expect(id).toMatch(/^run_/);
    expect(r.stdout).toContain('Listing files first.');
    expect(r.stdout).toContain('→ workspace_list');
    expect(r.stdout).toContain('All done, nothing to report.');
    expect(r.stdout).toMatch(/✔ completed after 2 turns/);
    expect((await h.getRun(id!)).status).toBe('completed');

    const followed = await longhaul(['message', id!, 'And once more.', '--watch']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('continues the run');
    expect(followed.stdout).toContain('» alice: And once more.');
    expect(followed.stdout).toMatch(/✔ completed after 3 turns/);
    expect(followed.stdout).not.toMatch(/completed after 2 turns/); // the earlier ending is not shown again

    const listed = await longhaul(['runs', '--status', 'completed', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { runs: { id: string }[] }).runs.map((x) => x.id)).toContain(id);
  });

  it('waits at an approval while another process approves it, then completes', async () => {
    fake.script('[cli-approve]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'n.txt', content: 'note' } }] } : { text: 'Saved the note.' },
    );
    let approveCommand: string[] | undefined;
    const watching = longhaul(['run', 'save a note [cli-approve]', '--approvals', 'write', '--watch'], {
      onOutput: (out) => {
        const m = /longhaul approve (\S+) (\S+)/.exec(out);
        if (m && !approveCommand) approveCommand = ['approve', m[1]!, m[2]!, '--comment', 'fine by me'];
      },
    });
    await waitFor(() => approveCommand !== undefined, { what: 'the watcher to print the approve command' });
    // What waits for a decision, listed (every page of GET /api/approvals), as text and as JSON.
    const listed = await longhaul(['approvals']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${approveCommand![1]}  ${approveCommand![2]}  workspace_write`);
    const listedJson = JSON.parse((await longhaul(['approvals', '--json'])).stdout) as { approvals: { approvalId: string }[] };
    expect(listedJson.approvals.map((a) => a.approvalId)).toContain(approveCommand![2]);
    const approved = await longhaul(approveCommand!);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/apr_\S+ approved/);
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approved by alice');
    expect(r.stdout).toContain('Saved the note.');
  });

  it('answers a question and cancels a run from the command line', async () => {
    fake.script('[cli-answer]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which day?' } }] } : { text: `Day: ${req.lastToolResults[0]?.content}` },
    );
    const started = await longhaul(['run', 'ask me [cli-answer]', '--approvals', 'none', '--json']);
    const { id } = JSON.parse(started.stdout) as { id: string };
    await h.waitForStatus(id, 'waiting_input');
    expect((await longhaul(['answer', id, 'Tuesday'])).code).toBe(0);
    expect((await h.waitForStatus(id, 'completed')).result).toBe('Day: Tuesday');

    fake.script('[cli-cancel]', () => ({ toolUses: [{ name: 'ask_user', input: { question: 'Still there?' } }] }));
    const second = JSON.parse((await longhaul(['run', 'wait forever [cli-cancel]', '--approvals', 'none', '--json'])).stdout) as { id: string };
    await h.waitForStatus(second.id, 'waiting_input');
    const watching = longhaul(['watch', second.id]);
    expect((await longhaul(['cancel', second.id])).code).toBe(0);
    const watched = await watching;
    expect(watched.code).toBe(1); // a cancelled run is not a success
    expect(watched.stdout).toContain('✘ cancelled');
  });

  it('starts a run on a team or a personal one (--team), and lists a team\'s runs', async () => {
    fake.script('[cli-team]', () => ({ text: 'Done.' }));
    const asBob = { env: { LONGHAUL_TOKEN: BOB } };
    const onTeam = await longhaul(['run', 'team work [cli-team]', '--approvals', 'none', '--team', 'payments', '--json'], asBob);
    expect(onTeam.code).toBe(0);
    const teamRun = JSON.parse(onTeam.stdout) as { id: string };
    const personal = await longhaul(['run', 'my own [cli-team]', '--approvals', 'none', '--team', 'none', '--json'], asBob);
    const personalRun = JSON.parse(personal.stdout) as { id: string };
    expect((await h.getRun(teamRun.id, BOB)).team).toBe('payments');
    expect((await h.getRun(personalRun.id, BOB)).team).toBeNull();
    const listed = await longhaul(['runs', '--team', 'payments', '--json'], asBob);
    expect((JSON.parse(listed.stdout) as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual([teamRun.id]);
    // Alice holds no role on payments: refused (exit 3), and nothing started.
    const refused = await longhaul(['run', 'not mine [cli-team]', '--team', 'payments', '--json']);
    expect([refused.code, JSON.parse(refused.stderr).error.code]).toEqual([3, 'forbidden']);
  });

  it('exits 1 when the watched run fails, 2 on usage errors, 3 when refused, 4 when unreachable', async () => {
    fake.script('[cli-fail]', () => ({ status: 400, message: 'the request is malformed' }));
    const failed = await longhaul(['run', 'doomed [cli-fail]', '--approvals', 'none', '--watch']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/✘ failed: .*\(model_bad_request\)/);

    const usage = await longhaul(['approve', 'run_only']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: longhaul');
    expect((await longhaul(['frobnicate'])).code).toBe(2);

    const refused = await longhaul(['watch', 'run_missing', '--json']);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { status: 404, code: 'run_not_found' } });
    expect((await longhaul(['runs'], { env: { LONGHAUL_TOKEN: 'wrong-token-0123456789' } })).code).toBe(3);

    const unreachable = await longhaul(['runs'], { env: { LONGHAUL_URL: 'http://127.0.0.1:9' } });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('network_error');
  });

  it('prints no terminal control sequences from goals, model text or errors; --json keeps the text exact', async () => {
    // Clear the screen, write the clipboard (OSC 52), set the window title, rewrite the line.
    const hostile = 'A\x1b[2J B\x1b]52;c;aGVsbG8=\x07 C\x1b]0;pwned\x07 D\rE';
    fake.script('[cli-escapes]', () => ({ text: `Said: ${hostile}.`, chunkChars: 3 }));
    const watched = await longhaul(['run', `goal ${hostile} [cli-escapes]`, '--approvals', 'none', '--watch']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('Said: A B C DE.'); // streamed in 3-character pieces: sequences cut in two go whole
    const id = watched.stdout.split('\n')[0]!;
    const listed = await longhaul(['runs']);
    expect(listed.stdout).toContain(`${id}  completed`);
    expect(listed.stdout).toContain('goal A B C D E [cli-escapes]'); // the list folds whitespace, the carriage return included
    fake.script('[cli-escapes-fail]', () => ({ status: 400, message: `malformed ${hostile}` }));
    const failed = await longhaul(['run', 'doomed [cli-escapes-fail]', '--approvals', 'none', '--watch']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✘ failed: ');
    // eslint-disable-next-line no-control-regex -- no control character but \t and \n may reach the terminal
    for (const out of [watched.stdout, watched.stderr, listed.stdout, failed.stdout, failed.stderr]) expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);

    // Machine-readable output is the data itself.
    const json = await longhaul(['runs', '--json']);
    expect((JSON.parse(json.stdout) as { runs: { id: string; goal: string }[] }).runs.find((r) => r.id === id)?.goal).toBe(`goal ${hostile} [cli-escapes]`);
    const items = (await longhaul(['watch', id, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; event?: { type: string; data: { text?: string } } });
    expect(items.some((i) => i.event?.type === 'llm.message' && i.event.data.text === `Said: ${hostile}.`)).toBe(true);
  });

  it('will not send its token over plain HTTP to another machine unless told to', async () => {
    const port = new URL(h.api.url).port;
    const elsewhere = { LONGHAUL_URL: `http://0.0.0.0:${port}` }; // this machine, but not by a loopback name
    const refused = await longhaul(['runs', '--json'], { env: elsewhere });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to send LONGHAUL_TOKEN over plain HTTP to 0.0.0.0');
    expect(refused.stdout).toBe('');
    expect((await longhaul(['runs', '--json', '--allow-http'], { env: elsewhere })).code).toBe(0);
    expect((await longhaul(['runs', '--json'], { env: { ...elsewhere, LONGHAUL_ALLOW_HTTP: '1' } })).code).toBe(0);
    expect((await longhaul(['runs', '--json'], { env: { ...elsewhere, LONGHAUL_TOKEN: '' } })).code).toBe(3); // no token to leak: asks, and is refused
  });
});
