import net from 'node:net';

export { freePort } from '../../shared/net/free-port';

/**
 * A free TCP port below 32768: Temporal on Postgres stores its services' ports (membership ports
 * too) as `smallint`, and the OS hands out ephemeral ports above that. Tries random ports in
 * 20000–32000; `taken` avoids handing the same port twice before the caller binds it.
 */
export async function freeLowPort(taken: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32768');
}
