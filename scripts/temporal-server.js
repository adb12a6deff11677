#!/usr/bin/env node
/**
 * Finds Temporal's real server and its SQL schema tool (for the cluster test and anyone running the
 * cluster shape without Docker), in this order:
 *   1. $TEMPORAL_SERVER_BIN and $TEMPORAL_SQL_TOOL
 *   2. the cache: ~/.cache/longhaul/temporal-server-<version>/{server,sql}
 *   3. build both there: `go install go.temporal.io/server/cmd/server@<version>` and `…/cmd/tools/sql`
 *      (a few minutes the first time; tags without replace directives build from the module)
 * and the Postgres schema files, which ship in the same module (Go's module cache).
 * Plain Node with no dependencies; `.ci/run` calls it to build before the tests. As a command it
 * prints a JSON object { server, sqlTool, schemaDir } (exit 0), or exits 3 when Go is missing.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isExecutable, prefixedLog } = require('./tool-files');

const SERVER_MODULE = 'go.temporal.io/server';
const SERVER_VERSION = 'v1.29.1';

const log = prefixedLog('temporal-server');

function go(args) {
  const out = spawnSync('go', args, { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

/** @returns {{ server: string, sqlTool: string, schemaDir: string } | undefined} */
function findTemporalServer(opts = {}) {
  const build = opts.build !== false;
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'longhaul', `temporal-server-${SERVER_VERSION}`);
  const server = process.env.TEMPORAL_SERVER_BIN || path.join(cache, 'server');
  const sqlTool = process.env.TEMPORAL_SQL_TOOL || path.join(cache, 'sql');
  const modCache = go(['env', 'GOMODCACHE']);
  if (modCache === undefined) {
    log('no Go toolchain: cannot find or build the Temporal server');
    return undefined;
  }
  if (!isExecutable(server) || !isExecutable(sqlTool)) {
    if (!build) return undefined;
    log(`building the Temporal server ${SERVER_VERSION} into ${cache} (several minutes the first time)`);
    const started = Date.now();
    fs.mkdirSync(cache, { recursive: true });
    const result = spawnSync('go', ['install', `${SERVER_MODULE}/cmd/server@${SERVER_VERSION}`, `${SERVER_MODULE}/cmd/tools/sql@${SERVER_VERSION}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOBIN: cache },
    });
    if (result.status !== 0 || !isExecutable(server) || !isExecutable(sqlTool)) throw new Error(`go install of the Temporal server failed (exit ${result.status})`);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const schemaDir = path.join(modCache, `${SERVER_MODULE}@${SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  if (!fs.existsSync(schemaDir)) {
    // The binaries came from elsewhere: fetch the module for its schema files.
    spawnSync('go', ['mod', 'download', `${SERVER_MODULE}@${SERVER_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  if (!fs.existsSync(schemaDir)) throw new Error(`no Postgres schema at ${schemaDir}`);
  return { server, sqlTool, schemaDir };
}

module.exports = { findTemporalServer, SERVER_VERSION };

if (require.main === module) {
  try {
    const found = findTemporalServer();
    if (!found) process.exit(3);
    process.stdout.write(`${JSON.stringify(found)}\n`);
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
