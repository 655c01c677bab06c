'use strict';
// The Node.js version guard. It runs first, on whatever Node the user happens to have: before
// `npm ci` finishes (the `prepare` script), before `npm start` and `npm test` (their `pre` scripts)
// and before the `gemini-webhooks` command (cli/bin.js). So it is CommonJS in the oldest syntax
// Node still parses, and it is not TypeScript: on a Node without type stripping the user gets one
// line naming the version needed instead of a module loader stack trace.
//
// The version needed is read from package.json `engines.node`, the one place that states it.

var packageJson = require('../package.json');

/** How to get a version that will do; `major` is the minimum's. */
function installHint(major) {
  return 'install it from https://nodejs.org/en/download (or `nvm install ' + major + ' && nvm use ' + major + '`)';
}

function parseVersion(text) {
  var match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(text).trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/** The minimum version of an `engines.node` range of the form `>=X.Y.Z`. */
function minimumOf(range) {
  var match = /^>=\s*(\d+\.\d+\.\d+)$/.exec(String(range).trim());
  if (!match)
    throw new Error('package.json engines.node must have the form ">=X.Y.Z" (got ' + JSON.stringify(range) + ').');
  return match[1];
}

function atLeast(version, minimum) {
  for (var i = 0; i < 3; i++) {
    if (version[i] !== minimum[i]) return version[i] > minimum[i];
  }
  return true;
}

/** One line saying what to do when `current` is older than the `engines.node` range, else null. */
function nodeVersionProblem(current, range) {
  var minimum = minimumOf(range === undefined ? packageJson.engines.node : range);
  var version = parseVersion(current);
  if (version && atLeast(version, parseVersion(minimum))) return null;
  return (
    'gemini-webhooks-pubsub needs Node.js ' +
    minimum +
    ' or newer, and this is Node.js ' +
    current +
    ': ' +
    installHint(minimum.split('.')[0]) +
    '.'
  );
}

/** Exits with status 1 after that line when this Node is too old. */
function checkNodeVersion() {
  var problem = nodeVersionProblem(process.version);
  if (problem === null) return;
  process.stderr.write(problem + '\n');
  process.exit(1);
}

module.exports = { nodeVersionProblem: nodeVersionProblem, checkNodeVersion: checkNodeVersion };

if (require.main === module) checkNodeVersion();
