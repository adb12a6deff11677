/**
 * `npm start` checks what would make it fail before it starts anything: with HOST beyond loopback
 * and no API_TOKENS it refuses, and with a port it needs taken it says which — and no Temporal dev
 * server is left behind running.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports';

const ROOT = path.join(__dirname, '..', '..');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('npm start with an unsafe bind', () => {
  it('refuses before starting the dev server', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-refuse-'));
    const devPort = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: { ...process.env, HOST: '0.0.0.0', API_TOKENS: '', TEMPORAL_ADDRESS: '', DATA_DIR: dataDir, TEMPORAL_DEV_PORT: String(devPort), TEMPORAL_DEV_UI_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      expect(code).toBe(1);
      expect(out).toContain('set API_TOKENS');
      expect(out).not.toMatch(/dev server/i);
      expect(fs.existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(false);
      expect(await portIsFree(devPort)).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm start with a port taken', () => {
  it('names the port and the setting, and starts nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-taken-'));
    const devPort = await freePort();
    const apiPort = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(devPort, '127.0.0.1', resolve));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], {
        cwd: ROOT,
        env: { ...process.env, API_TOKENS: '', TEMPORAL_ADDRESS: '', DATA_DIR: dataDir, PORT: String(apiPort), TEMPORAL_DEV_PORT: String(devPort), TEMPORAL_DEV_UI_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(out).toContain(`Port ${devPort} on 127.0.0.1 is taken by another program: stop it, or choose another with TEMPORAL_DEV_PORT=`);
      expect(fs.existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(false);
      expect(await portIsFree(apiPort)).toBe(true);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
