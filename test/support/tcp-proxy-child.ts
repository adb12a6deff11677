/** The process of TcpProxyProcess: a TcpProxy to argv's host and port; `cut` and `open` over IPC, each answered with the port or an error. */
import { TcpProxy } from './tcp-proxy';

const proxy = new TcpProxy({ host: process.argv[2]!, port: Number(process.argv[3]) });
const reply = (m: unknown) => process.send!(m);
const fail = (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) });

proxy.open().then(() => reply({ port: proxy.port }), fail);
process.on('message', (op) => {
  (op === 'cut' ? proxy.cut() : proxy.open()).then(() => reply({ port: proxy.port }), fail);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
