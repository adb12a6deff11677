/**
 * A TCP proxy on 127.0.0.1 that a test can freeze: every connection through it stays open but carries nothing either
 * way (a network partition, a frozen server, a proxy that keeps the socket and passes nothing), and on thaw what was
 * held is delivered late, as TCP would once a partition heals. TcpProxy (tcp-proxy.ts) is the other fault: sockets
 * closed, port refused.
 */
import net from 'node:net';

export class FreezableTcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly held: Array<() => void> = [];
  private frozen = false;
  port = 0;
  /** Connections accepted so far: a test sees whether a statement went over a new one. */
  accepted = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      this.accepted++;
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Nothing passes from now on, either way; the sockets stay open. */
  freeze(): void {
    this.frozen = true;
  }

  /** Delivers what was held, in order, and passes everything again. */
  thaw(): void {
    this.frozen = false;
    for (const deliver of this.held.splice(0)) deliver();
  }

  async close(): Promise<void> {
    this.held.length = 0;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      const deliver = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (this.frozen) this.held.push(deliver);
      else deliver();
    });
  }
}
