// The CLI as people expect a CLI: `--help` on every command and group, `help <command>`, `--version`,
// every option of every command explained in its help, an Examples section each, and lists given one way
// everywhere (repeat the option, or separate with commas).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPTIONS as CHECK } from '../../cli/check/command.ts';
import { OPTIONS as DLQ_LIST } from '../../cli/dlq/list.ts';
import { OPTIONS as DLQ_REPLAY } from '../../cli/dlq/replay.ts';
import { OPTIONS as LISTEN } from '../../cli/listen.ts';
import { GEMINI_OPTIONS, selectRoutes } from '../../cli/options.ts';
import { OPTIONS as REPLAY } from '../../cli/replay.ts';
import { OPTIONS as TAIL } from '../../cli/tail.ts';
import { OPTIONS as CREATE } from '../../cli/webhooks/create.ts';
import { OPTIONS as PRUNE } from '../../cli/webhooks/prune.ts';
import { OPTIONS as ROTATE } from '../../cli/webhooks/rotate.ts';
import { OPTIONS as UPDATE } from '../../cli/webhooks/update.ts';
import { cliHarness, runCli } from './harness.ts';

const COMMANDS: Array<[string[], Record<string, unknown>]> = [
  [['webhooks', 'create'], CREATE],
  [['webhooks', 'list'], GEMINI_OPTIONS],
  [['webhooks', 'get'], GEMINI_OPTIONS],
  [['webhooks', 'update'], UPDATE],
  [['webhooks', 'ping'], GEMINI_OPTIONS],
  [['webhooks', 'enable'], GEMINI_OPTIONS],
  [['webhooks', 'disable'], GEMINI_OPTIONS],
  [['webhooks', 'delete'], GEMINI_OPTIONS],
  [['webhooks', 'rotate'], ROTATE],
  [['webhooks', 'prune'], PRUNE],
  [['dlq', 'list'], DLQ_LIST],
  [['dlq', 'replay'], DLQ_REPLAY],
  [['tail'], TAIL],
  [['listen'], LISTEN],
  [['check'], CHECK],
  [['replay'], REPLAY],
];

const cli = (args: string[]) => runCli(args, { env: {} });

test('every command explains each of its options and has examples; `help <command>` prints the same', async () => {
  for (const [path, options] of COMMANDS) {
    const help = await cli([...path, '--help']);
    assert.equal(help.code, 0, path.join(' '));
    assert.match(help.out, new RegExp(`^usage: gemini-webhooks ${path.join(' ')}`), path.join(' '));
    assert.match(help.out, /\nExamples:\n {2}\S/, `${path.join(' ')}: examples`);
    for (const option of [...Object.keys(options), 'help'])
      assert.match(help.out, new RegExp(`^ {2}--${option}\\b.*? {2,}\\S`, 'm'), `${path.join(' ')}: --${option}`);
    assert.equal((await cli(['help', ...path])).out, help.out, `help ${path.join(' ')}`);
  }
});

test('each group prints its own help; the top level lists every command; --version', async () => {
  for (const group of ['webhooks', 'dlq']) {
    for (const args of [
      [group, '--help'],
      ['help', group],
      [group, '-h'],
    ]) {
      const help = await cli(args);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.out, new RegExp(`^usage: gemini-webhooks ${group} <subcommand>`));
      assert.match(help.out, /\nExamples:\n/);
      assert.doesNotMatch(help.out, group === 'webhooks' ? /dlq list/ : /webhooks create/);
    }
    const missing = await cli([group]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.err,
      new RegExp(`missing subcommand; choose one of .* \\(\`gemini-webhooks ${group} --help\`\\)`),
    );
  }
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  for (const command of ['check', 'replay', 'tail', 'listen', 'webhooks create', 'dlq list', '--version'])
    assert.match(top.out, new RegExp(`\\n {2}${command.replace('-', '\\-')}\\b`), command);
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const shown = await cli([flag]);
    assert.equal(shown.code, 0);
    assert.equal(shown.out, `gemini-webhooks ${version}`);
  }
  const unknown = await cli(['nope']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.err, 'gemini-webhooks: unknown command "nope"; `gemini-webhooks --help` lists them.');
});

test('lists are given one way everywhere: repeat the option, or separate values with commas', async (t) => {
  const harness = await cliHarness(t);
  const created = await harness.run([
    'webhooks',
    'create',
    '--url',
    'https://receiver.example/',
    '--events',
    'batch.succeeded',
    '--events',
    'batch.failed,video.generated',
  ]);
  assert.equal(created.code, 0, created.err);
  const request = harness.service.requests.find((r) => r.method === 'POST');
  assert.deepEqual((request?.body as { subscribed_events: string[] }).subscribed_events, [
    'batch.succeeded',
    'batch.failed',
    'video.generated',
  ]);
  assert.deepEqual(
    selectRoutes('gemini', ['batch.failed,unrouted', 'batch.succeeded']).map((r) => r.route),
    ['batch.succeeded', 'batch.failed', 'unrouted'],
  );
});
