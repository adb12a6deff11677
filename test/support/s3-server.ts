/**
 * A real S3-compatible server for tests: moto's server (PyPI `moto[server]`), on loopback, with a
 * fresh bucket. The S3 client is pointed at it through the usual AWS_* variables, as a deployment
 * would point it at MinIO or AWS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports';
import { waitFor } from './wait';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The environment a Longhaul process needs to use this server. */
  env: Record<string, string>;
  client: S3Client;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'longhaul-test'): Promise<S3Server> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const env = { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${out}`);
      return fetch(endpoint).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 30_000, what: 'moto_server to listen' },
  );
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    env,
    client,
    async stop() {
      client.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
