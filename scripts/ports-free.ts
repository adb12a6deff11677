/**
 * Before `npm start` starts anything: every port it is about to bind must be free, or it says
 * which one is taken, by what setting, and exits — rather than leaving a half-started dev server.
 */
import net from 'node:net';

export interface PortClaim {
  port: number;
  host: string;
  /** The setting that chose it, for the message (`PORT`, `TEMPORAL_DEV_PORT`…). */
  setting: string;
}

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The claims whose port something else holds. */
export async function takenPorts(claims: PortClaim[]): Promise<PortClaim[]> {
  const taken: PortClaim[] = [];
  for (const c of claims) if (c.port > 0 && !(await isFree(c.port, c.host))) taken.push(c);
  return taken;
}
