/**
 * The model call's way in (issue 26: CPU per streamed token): `AnthropicModel` reading many streamed answers at once
 * from the fake Messages API, through the global fetch (undici) and over `node:http` (activities/model/
 * http-transport.ts, what the worker uses), in turns: fetch, node:http, node:http, fetch, … so that neither gets the
 * quieter stretch of the machine.
 *
 * Each sample is a process of its own (bench/model-transport-client.ts) whose CPU time over its streaming
 * (`process.cpuUsage`) is the transport's, the event stream's reading (activities/model/server-sent-events.ts) and
 * Longhaul's message accumulation, and nothing else; the fake streams from this process. The stream is the `load`
 * bench's: 8 characters (2 tokens) an event at 50 tokens a second, here 150 events an answer.
 *
 * MODEL_TRANSPORT_STREAMS (500 at once), MODEL_TRANSPORT_PAIRS (3), MODEL_TRANSPORT_EVENTS (150 an answer).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { summarize } from './env';
import type { TransportSample } from './model-transport-client';

const TRANSPORTS = ['fetch', 'node-http'] as const;

export async function modelTransportBench() {
  const streams = Number(process.env.MODEL_TRANSPORT_STREAMS ?? 500);
  const pairs = Number(process.env.MODEL_TRANSPORT_PAIRS ?? 3);
  const events = Number(process.env.MODEL_TRANSPORT_EVENTS ?? 150);
  const fake = new FakeAnthropic();
  fake.keepRequests = false;
  fake.script('[transport]', () => ({ text: 'abcdefgh'.repeat(events), chunkChars: 8, tokensPerSecond: 50 }));
  await fake.start();
  const samples: TransportSample[] = [];
  try {
    for (let pair = 0; pair < pairs; pair++) {
      // fetch first in even pairs, node:http first in odd ones
      const order = pair % 2 === 0 ? TRANSPORTS : [...TRANSPORTS].reverse();
      for (const transport of order) samples.push(await sample(transport, fake, streams));
    }
  } finally {
    await fake.stop();
  }
  const of = (t: string) => samples.filter((s) => s.transport === t);
  return {
    streams,
    eventsPerAnswer: events,
    samples,
    cpuUsPerEvent: Object.fromEntries(TRANSPORTS.map((t) => [t, summarize(of(t).map((s) => s.cpuUsPerEvent))])),
  };
}

function sample(transport: (typeof TRANSPORTS)[number], fake: FakeAnthropic, streams: number): Promise<TransportSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'model-transport-client.ts')], {
      env: { ...process.env, TRANSPORT: transport, STREAMS: String(streams), BASE_URL: fake.url, API_KEY: fake.apiKey },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`model-transport-client (${transport}) exited ${code}`));
      resolve(JSON.parse(out) as TransportSample);
    });
  });
}
