/**
 * Small helpers the tool finders share (temporal-cli.js, temporal-server.js): plain Node with no
 * dependencies, because they run before `npm install`.
 */
'use strict';
const fs = require('node:fs');

/** A regular file this process may execute. */
function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Progress on stderr, prefixed with the finder's name (stdout carries the answer). */
function prefixedLog(prefix) {
  return (message) => process.stderr.write(`[${prefix}] ${message}\n`);
}

module.exports = { isExecutable, prefixedLog };
