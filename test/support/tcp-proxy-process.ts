/**
 * The TcpProxy of test/support/tcp-proxy.ts in a process of its own, told to cut and open over IPC: for a caller
 * whose own event loop cannot carry the traffic — one that blocks (TemporalCluster's setup runs synchronously, so a
 * proxy in the same process never answers it) or that is the thing under load (a benchmark's API and fake).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

type Reply = { port: number } | { error: string };

export class TcpProxyProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxyProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'tcp-proxy-child.ts'), target.host, String(target.port)], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const first = await new Promise<Reply>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Reply));
      child.once('exit', (code) => reject(new Error(`the proxy process exited (${code}) before listening`)));
    });
    if ('error' in first) throw new Error(first.error);
    return new TcpProxyProcess(child, first.port);
  }

  private command(op: 'cut' | 'open'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (m) => ('error' in (m as Reply) ? reject(new Error((m as { error: string }).error)) : resolve()));
      this.child.send(op);
    });
  }

  /** The outage: every connection through it dropped, the port closed. */
  cut(): Promise<void> {
    return this.command('cut');
  }

  /** Listens again, on the same port. */
  open(): Promise<void> {
    return this.command('open');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
