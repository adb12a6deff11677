#!/usr/bin/env node
/**
 * Finds Temporal's time-skipping test server (what the workflow tests in test/workflows run on), in this order:
 *   1. $TEMPORAL_TEST_SERVER
 *   2. the cache: ~/.cache/longhaul/temporal-test-server-<version>/temporal-test-server
 *   3. build it there from Maven Central with Java and Maven: the `io.temporal:temporal-test-server` jar and its
 *      runtime dependencies (a tiny pom, `mvn dependency:copy-dependencies`), and a wrapper script that runs its
 *      standalone main, `io.temporal.testserver.TestServer` (the one the SDK's native binary is built from)
 *
 * The SDK would otherwise download a native binary from a host this machine cannot reach. Its core starts the
 * executable it is given (`existing-path`) as `<path> <port> [extra args…]`, which is exactly TestServer's
 * command line, and stops it by killing the process: the wrapper `exec`s Java so that kill reaches the JVM.
 *
 * Plain Node with no dependencies, like temporal-cli.js, so `.ci/run` calls it before `npm install`. As a command
 * it prints the wrapper's path on stdout (exit 0), or exits 3 when Java or Maven is missing. Progress on stderr.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isExecutable, prefixedLog } = require('./tool-files');

const TEST_SERVER_VERSION = '1.38.0';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

const log = prefixedLog('temporal-test-server');

function cacheDir() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'longhaul', `temporal-test-server-${TEST_SERVER_VERSION}`);
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The java to record in the wrapper: $JAVA_HOME's, else the one on PATH (resolved, so a later PATH does not matter). */
function findJava() {
  const fromHome = process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', 'java');
  if (fromHome && isExecutable(fromHome)) return fromHome;
  const java = onPath('java');
  return java && fs.realpathSync(java);
}

// slf4j-nop: the server logs through SLF4J and, with no binding, warns about it on every start.
const POM = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/temporal-test-server.js: the jars of Temporal's time-skipping test server. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.longhaul.tools</groupId>
  <artifactId>temporal-test-server-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;

/** The wrapper the SDK runs: the port first, then any extra args, as TestServer's main takes them. */
function wrapperScript(java) {
  return `#!/bin/sh
# Temporal's time-skipping test server ${TEST_SERVER_VERSION} (written by scripts/temporal-test-server.js).
# Usage: temporal-test-server <port> [args...]. A small, quick-starting JVM: the server lives for one test file.
dir=$(dirname "$0")
exec "${java}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$dir/lib/*" ${MAIN_CLASS} "$@"
`;
}

function usable(dir) {
  const wrapper = path.join(dir, 'temporal-test-server');
  return isExecutable(wrapper) && fs.existsSync(path.join(dir, 'lib', `temporal-test-server-${TEST_SERVER_VERSION}.jar`)) ? wrapper : undefined;
}

/**
 * @param {{ build?: boolean }} [opts] build: allow step 3 (downloads about 40 MB of jars the first time)
 * @returns {string | undefined} absolute path of an executable that runs the test server
 */
function findTemporalTestServer(opts = {}) {
  const build = opts.build !== false;
  const fromEnv = (process.env.TEMPORAL_TEST_SERVER || '').trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_TEST_SERVER=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dir = cacheDir();
  const cached = usable(dir);
  if (cached || !build) return cached;

  const java = findJava();
  const mvn = onPath('mvn');
  if (!java || !mvn) {
    log(`cannot fetch the test server: ${!java ? 'no Java (17 or later)' : 'no Maven (mvn)'} found`);
    return undefined;
  }
  log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} and its dependencies from Maven Central into ${dir}`);
  const started = Date.now();
  // Build next to the cache and rename into place, so an interrupted or concurrent run never leaves half a server.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    fs.writeFileSync(path.join(staging, 'pom.xml'), POM);
    const result = spawnSync(
      mvn,
      ['-q', '-B', '-Dstyle.color=never', '-f', path.join(staging, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(staging, 'lib')}`],
      { stdio: ['ignore', 2, 2] }, // stdout carries only the answer
    );
    if (result.status !== 0) {
      log(`mvn failed (exit ${result.status})`);
      return undefined;
    }
    fs.writeFileSync(path.join(staging, 'temporal-test-server'), wrapperScript(java), { mode: 0o755 });
    if (!usable(staging)) {
      log('mvn finished but the test server jar is missing');
      return undefined;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  log(`ready in ${Math.round((Date.now() - started) / 1000)}s`);
  return usable(dir);
}

module.exports = { findTemporalTestServer, TEST_SERVER_VERSION };

if (require.main === module) {
  try {
    const server = findTemporalTestServer();
    if (server) {
      process.stdout.write(`${server}\n`);
      process.exit(0);
    }
    process.exit(3);
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
