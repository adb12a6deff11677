#!/usr/bin/env node
/**
 * Finds the Temporal CLI (which runs the dev server), in this order:
 *   1. $TEMPORAL_CLI
 *   2. `temporal` on PATH
 *   3. $(go env GOPATH)/bin/temporal
 *   4. build it: `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` when Go is present
 *      (later tags carry a replace directive that breaks `go install`)
 *   5. none: callers fall back to the Temporal SDK's own download (needs internet)
 *
 * One script for `npm start`, the tests and `.ci/run`. Plain Node with no dependencies, so it
 * runs before `npm install`. As a command it prints the path on stdout (exit 0), or nothing and
 * exit 3 when only the SDK download is left. Progress goes to stderr.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { isExecutable, prefixedLog } = require('./tool-files');

const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const CLI_VERSION = 'v1.5.1';

const log = prefixedLog('temporal-cli');

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function goBinDir() {
  const go = onPath('go');
  if (!go) return undefined;
  const out = spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8' });
  const gopath = out.status === 0 ? out.stdout.trim().split(path.delimiter)[0] : '';
  return gopath ? { go, bin: path.join(gopath, 'bin') } : undefined;
}

/**
 * @param {{ build?: boolean }} [opts] build: allow step 4 (minutes, the first time)
 * @returns {string | undefined} absolute path of a usable CLI, or undefined for "use the SDK download"
 */
function findTemporalCli(opts = {}) {
  const build = opts.build !== false;
  const fromEnv = (process.env.TEMPORAL_CLI || '').trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    log(`using TEMPORAL_CLI=${fromEnv}`);
    return fromEnv;
  }
  const fromPath = onPath('temporal');
  if (fromPath) {
    log(`using ${fromPath} (found on PATH)`);
    return fromPath;
  }
  const go = goBinDir();
  if (go && isExecutable(path.join(go.bin, 'temporal'))) {
    log(`using ${path.join(go.bin, 'temporal')} (GOPATH/bin)`);
    return path.join(go.bin, 'temporal');
  }
  if (go && build) {
    log(`building the Temporal CLI: go install ${CLI_MODULE}@${CLI_VERSION}`);
    log('the first build downloads and compiles the dev server; it takes several minutes');
    const started = Date.now();
    const result = spawnSync(go.go, ['install', `${CLI_MODULE}@${CLI_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'] });
    const built = path.join(go.bin, 'temporal');
    if (result.status === 0 && isExecutable(built)) {
      log(`built ${built} in ${Math.round((Date.now() - started) / 1000)}s`);
      return built;
    }
    log(`go install failed (exit ${result.status}); falling back to the SDK's download`);
  } else if (!go) {
    log('no Temporal CLI and no Go toolchain found');
  }
  log("the Temporal SDK will download the dev server (needs internet access)");
  return undefined;
}

module.exports = { findTemporalCli, CLI_VERSION };

if (require.main === module) {
  try {
    const cli = findTemporalCli();
    if (cli) {
      process.stdout.write(`${cli}\n`);
      process.exit(0);
    }
    process.exit(3);
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
