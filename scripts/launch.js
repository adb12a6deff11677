#!/usr/bin/env node
/**
 * `npm start`, before anything of Longhaul's is loaded:
 *   1. one instance per checkout: a second start while one runs says so in one line (its pid and
 *      URL) and exits — before it could rebuild `dist/` under the running instance;
 *   2. build only when a source changed since the last build (a fingerprint of every source file's
 *      path, size and mtime in dist/.build-fingerprint): an unchanged start takes seconds, and the
 *      compiler's and bundler's chatter stays out of the log unless the build fails;
 *      The build includes the workflow bundle, so the worker does not bundle at every start;
 *   3. then run dist/scripts/start.js in this same process (signals reach it directly).
 * Plain Node with no dependencies: it runs before the build exists.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LOCK = path.join(ROOT, '.tmp', 'start.json');
const FINGERPRINT = path.join(ROOT, 'dist', '.build-fingerprint');
const SOURCE_DIRS = ['contract', 'client', 'workflows', 'activities', 'worker', 'api', 'shared', 'scripts', 'web'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const SKIP = new Set(['node_modules', 'dist']);
const BUNDLE = path.join(ROOT, 'dist', 'workflow-bundle.js');
const OUTPUTS = [path.join(ROOT, 'dist', 'scripts', 'start.js'), path.join(ROOT, 'web', 'dist', 'index.html'), BUNDLE];

function say(line) {
  process.stdout.write(`${line}\n`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A recycled pid belongs to some other program: only a launcher counts.
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launch.js');
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** Takes the checkout's start lock, or returns who holds it. */
function takeLock() {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(LOCK, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), url: null }));
      fs.closeSync(fd);
      process.on('exit', releaseLock);
      return undefined;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder;
    try {
      holder = JSON.parse(fs.readFileSync(LOCK, 'utf8'));
    } catch {
      holder = undefined; // half-written by a start that died: stale
    }
    if (holder && typeof holder.pid === 'number' && alive(holder.pid)) return holder;
    fs.rmSync(LOCK, { force: true });
  }
  throw new Error(`could not take ${LOCK}`);
}

function releaseLock() {
  try {
    if (JSON.parse(fs.readFileSync(LOCK, 'utf8')).pid === process.pid) fs.rmSync(LOCK, { force: true });
  } catch {
    // already gone
  }
}

function fingerprint() {
  const hash = crypto.createHash('sha256');
  const visit = (rel) => {
    const abs = path.join(ROOT, rel);
    let stat;
    try {
      stat = fs.statSync(abs);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) if (!SKIP.has(name)) visit(path.join(rel, name));
    } else if (stat.isFile()) hash.update(`${rel}\0${stat.size}\0${stat.mtimeMs}\n`);
  };
  for (const rel of [...SOURCE_DIRS, ...SOURCE_FILES]) visit(rel);
  return hash.digest('hex');
}

function run(step, args) {
  const bin = step === 'node' ? process.execPath : path.join(ROOT, 'node_modules', '.bin', step);
  const out = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', env: process.env });
  if (out.status !== 0) {
    process.stderr.write(`${out.stdout || ''}${out.stderr || ''}`);
    say(`The build failed (${step}); the output is above.`);
    process.exit(1);
  }
}

function buildIfChanged() {
  const now = fingerprint();
  let before = '';
  try {
    before = fs.readFileSync(FINGERPRINT, 'utf8');
  } catch {
    // never built
  }
  if (before === now && OUTPUTS.every((f) => fs.existsSync(f))) {
    say('Build is current (no source changed): starting.');
    return;
  }
  const t0 = Date.now();
  say('Building (sources changed since the last build)…');
  run('tsc', ['-p', 'tsconfig.build.json']);
  run('vite', ['build', '--config', 'web/vite.config.mts', '--logLevel', 'error']);
  run('node', [path.join('dist', 'scripts', 'bundle-workflows.js'), BUNDLE]);
  fs.writeFileSync(FINGERPRINT, now);
  say(`Built in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
}

function main() {
  const holder = takeLock();
  if (holder) {
    say(`Longhaul is already running from this folder: process ${holder.pid}${holder.url ? `, ${holder.url}` : ' (still starting)'}. Stop it first (Ctrl-C in its terminal, or kill ${holder.pid}).`);
    process.exit(1);
  }
  buildIfChanged();
  process.env.LONGHAUL_START_LOCK = LOCK;
  // The workflow bundle built above: the worker starts without bundling (unless one is configured).
  if (!process.env.WORKFLOW_BUNDLE_PATH) process.env.WORKFLOW_BUNDLE_PATH = BUNDLE;
  require(path.join(ROOT, 'dist', 'scripts', 'start.js'));
}

main();
