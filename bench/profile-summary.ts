/**
 * Where a worker's CPU went, from the V8 CPU profiles the `load` bench has it write (LOAD_WORKER_PROFILE=<dir>):
 * the samples of one phase (the bench's `profileWindowsUs`, on the profile's own clock), their time by what was
 * running (self time, grouped: a package, a Node subsystem, a Longhaul file) and by what it was done for
 * (inclusive time of the frames that stand for a piece of work: the SDK's stream parsing, publishing a delta, a
 * live-text write, a database statement, a heartbeat, a workflow activation). Per streamed token when given tokens.
 *
 *   npx tsx bench/profile-summary.ts <profile dir> <bench results json> [streaming|decisions|storm]
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a frame's self time is counted as: a package, a Node subsystem, a Longhaul file, or V8's own. */
function groupOf(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (pkg) return pkg[1]!;
  if (f.url.startsWith('node:')) return f.url.split('/').slice(0, 2).join('/');
  const own = /\/(activities|api|shared|worker|workflows|contract|test|bench)\/(.*)$/.exec(f.url);
  if (own) return `${own[1]}/${own[2]}`;
  return path.basename(f.url);
}

/**
 * Who a sample's time is counted to, exclusively: the nearest frame to the leaf that is a package or a Longhaul file;
 * Node's internals and V8's native frames count to whoever called them (a socket write inside pg is pg's).
 */
const OWNERS: [string, RegExp][] = [
  ['pg (statements: protocol, socket writes, results)', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass)\//],
  ['kysely (building and compiling statements)', /node_modules\/kysely\//],
  ['Anthropic SDK (SSE parsing, message accumulation, events)', /node_modules\/@anthropic-ai\/sdk\//],
  ['Temporal SDK (worker, bridge, protobuf, rxjs)', /node_modules\/(@temporalio|protobufjs|rxjs|long|@grpc)\//],
  ['OpenTelemetry', /node_modules\/@opentelemetry\//],
  ['pino (logging)', /node_modules\/(pino|thread-stream|sonic-boom)/],
  ['tsx (the dev loader)', /node_modules\/tsx\//],
  ['workflow code (bundle, sandbox)', /workflow-bundle|evalmachine/],
  ['Longhaul: bus and live text', /\/shared\/bus\//],
  ['Longhaul: store', /\/shared\/store\//],
  ['Longhaul: model activity and stream', /\/activities\/(model|model-activities)/],
  ['Longhaul: other activities', /\/activities\//],
  ['Longhaul: API', /\/api\//],
  ['Longhaul: other', /\/(shared|worker|contract|test)\//],
  ['other packages', /node_modules\//],
];

function ownerOf(stack: CallFrame[]): string {
  for (const f of stack) for (const [name, re] of OWNERS) if (re.test(f.url)) return name;
  const leaf = stack[0]!;
  if (leaf.functionName === '(garbage collector)') return 'V8: garbage collection';
  if (leaf.functionName === '(program)') return 'V8: native, unattributed';
  if (stack.some((f) => /undici|webstreams/.test(f.url))) return 'fetch (undici, web streams: the HTTP response read)';
  return `Node, no caller in a package (${leaf.url.split('/').slice(0, 2).join('/') || leaf.functionName})`;
}

/** Pieces of work, each a frame that begins it (by function name and a part of its file's path). */
const WORK: [string, (f: CallFrame) => boolean][] = [
  ['SDK: stream parsing (SSE lines, JSON, message accumulation)', (f) => f.url.includes('@anthropic-ai/sdk') && /iterMessages|_iterSSEMessages|decode|#addStreamEvent|_addStreamEvent|accumulate|LineDecoder|SSEDecoder|_fromReadableStream|fromSSEResponse/.test(f.functionName)],
  ['our onText: a delta published (bus, live text, NOTIFY queue)', (f) => f.url.includes('model-activities') && f.functionName.includes('onText')],
  ['our delta stream (activities/model/delta-stream)', (f) => f.url.includes('delta-stream')],
  ['bus: PostgresBus NOTIFY batches', (f) => f.url.includes('postgres-bus') && /forward|coalesce/.test(f.functionName)],
  ['bus: live text writer', (f) => f.url.includes('live-text-writer')],
  ['store: live text statements', (f) => f.url.includes('store/live-text')],
  ['pg: a statement (client side)', (f) => f.url.includes('node_modules/pg') && /^(query|_pulseQueryQueue|handleDataRow|parse|_handleReadyForQuery)$/.test(f.functionName)],
  ['kysely: building and compiling statements', (f) => f.url.includes('node_modules/kysely') && /compile|execute/.test(f.functionName)],
  ['heartbeats', (f) => f.url.includes('activities/heartbeat') || (f.url.includes('@temporalio/worker') && /heartbeat/i.test(f.functionName))],
  ['Temporal: workflow activations (workflow thread)', (f) => f.url.includes('@temporalio') && /activate|runActivation|concludeActivation/.test(f.functionName)],
  ['Temporal: native bridge (polls, completions)', (f) => f.url.includes('@temporalio/core-bridge') || f.url.includes('@temporalio/worker') && /poll|complete/i.test(f.functionName)],
  ['OpenTelemetry', (f) => f.url.includes('@opentelemetry')],
  ['logging (pino)', (f) => f.url.includes('node_modules/pino')],
  ['HTTP client reading the stream (undici / node-fetch, sockets)', (f) => /node_modules\/(undici|node-fetch)|node:internal\/(deps\/undici|streams)/.test(f.url)],
  ['tsx loader', (f) => f.url.includes('node_modules/tsx')],
];

function summarize(file: string, window: [number, number] | null) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const work = new Map<string, number>();
  const owners = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
    if (window && (t < window[0] || t > window[1])) continue;
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    const g = groupOf(node.callFrame);
    self.set(g, (self.get(g) ?? 0) + dt);
    const fnKey = `${node.callFrame.functionName || '(anonymous)'} ${groupOf(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
    selfFn.set(fnKey, (selfFn.get(fnKey) ?? 0) + dt);
    const seen = new Set<string>();
    const stack: CallFrame[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      stack.push(f);
      for (const [name, is] of WORK) if (!seen.has(name) && is(f)) seen.add(name);
    }
    const owner = ownerOf(stack);
    owners.set(owner, (owners.get(owner) ?? 0) + dt);
    for (const name of seen) work.set(name, (work.get(name) ?? 0) + dt);
  }
  return { total, idle, self, selfFn, work, owners };
}

function main() {
  const [dir, resultsFile, phase = 'streaming'] = process.argv.slice(2);
  if (!dir || !resultsFile) throw new Error('usage: tsx bench/profile-summary.ts <profile dir> <bench results json> [streaming|decisions|storm]');
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const figures = results.result ?? results;
  const window = figures.profileWindowsUs?.[phase] as [number, number] | undefined;
  const tokens = phase === 'streaming' ? (figures.streaming?.tokensStreamed as number | undefined) : undefined;
  const per = (us: number) => (tokens ? `${(us / tokens).toFixed(1)} µs/token` : '');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const s = summarize(path.join(dir, file), window ?? null);
    if (s.total < 1e5) continue; // a thread that did next to nothing (the loader's)
    console.log(`\n== ${file}: ${(s.total / 1000).toFixed(0)} ms busy, ${(s.idle / 1000).toFixed(0)} ms idle in the ${phase} phase ${per(s.total)}`);
    const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
    console.log('-- time by owner (exclusive: the nearest package or Longhaul file to the leaf)');
    for (const [k, v] of top(s.owners, 20)) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / s.total).toFixed(1).padStart(5)}% ${per(v).padStart(16)}  ${k}`);
    console.log('-- self time by group');
    for (const [k, v] of top(s.self, 25)) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / s.total).toFixed(1).padStart(5)}% ${per(v).padStart(16)}  ${k}`);
    console.log('-- self time by function');
    for (const [k, v] of top(s.selfFn, 30)) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / s.total).toFixed(1).padStart(5)}% ${per(v).padStart(16)}  ${k}`);
    console.log('-- inclusive time by piece of work (pieces overlap)');
    for (const [k, v] of top(s.work, 30)) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / s.total).toFixed(1).padStart(5)}% ${per(v).padStart(16)}  ${k}`);
  }
}

main();
