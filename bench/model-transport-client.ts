/**
 * One sample of bench/model-transport.ts, in its own process: STREAMS model calls at once through `AnthropicModel`
 * with the transport named by TRANSPORT, and the CPU this process spent on them (`process.cpuUsage`, from the
 * first request to the last answer) per stream event received. Each call runs in an async context of its own, as a
 * worker's model call runs in its activity's (Temporal's `Context` is an AsyncLocalStorage): with one in use, every
 * promise the call makes pays Node's async-context hooks (on Node 22; Node 24 keeps the context without them).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AnthropicModel } from '../activities/model/anthropic-model';
import { createHttpFetch } from '../activities/model/http-transport';

export interface TransportSample {
  transport: string;
  streams: number;
  textChars: number;
  wallMs: number;
  cpuMs: number;
  cpuUsPerEvent: number;
}

async function main(): Promise<void> {
  const transport = process.env.TRANSPORT ?? 'node-http';
  const streams = Number(process.env.STREAMS ?? 500);
  const model = new AnthropicModel({
    apiKey: process.env.API_KEY ?? '',
    baseUrl: process.env.BASE_URL,
    fetch: transport === 'fetch' ? globalThis.fetch : createHttpFetch(),
  });
  let textChars = 0;
  let events = 0;
  const call = async (i: number) => {
    const answer = await model.complete({
      model: 'claude-test',
      system: 'transport bench',
      messages: [{ role: 'user', content: `stream ${i} [transport]` }],
      tools: [],
      maxTokens: 4096,
      signal: new AbortController().signal,
      onText: (text) => {
        textChars += text.length;
        events += 1;
      },
    });
    if (answer.stopReason !== 'end_turn') throw new Error(`stream ${i} ended with ${answer.stopReason}`);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const activityContext = new AsyncLocalStorage<{ stream: number }>();
  await Promise.all(Array.from({ length: streams }, (_, i) => activityContext.run({ stream: i }, () => call(i))));
  const used = process.cpuUsage(cpu);
  const cpuUs = used.user + used.system;
  const sample: TransportSample = {
    transport,
    streams,
    textChars,
    wallMs: Math.round(performance.now() - started),
    cpuMs: Math.round(cpuUs / 1000),
    // The text deltas received: the events that carry tokens (each answer's other five are a small share).
    cpuUsPerEvent: Number((cpuUs / events).toFixed(1)),
  };
  process.stdout.write(JSON.stringify(sample));
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(1);
  },
);
