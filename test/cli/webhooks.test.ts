// `gemini-webhooks webhooks ...` against a local WebhookService (real HTTP, snake_case) and a fake
// `pulumi` executable on PATH: registration, secret storage, rotation, pruning, and the errors.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../functions/catalog.ts';
import { storedSecrets } from './fake-pulumi.ts';
import { newSecret } from './fake-webhook-service.ts';
import { cliHarness } from './harness.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RECEIVER = 'https://receiver-abc-uc.a.run.app/';

test(
  'create registers every subscribable event with snake_case and the API key, ' + 'and stores the secret via stdin',
  async (t) => {
    const old = newSecret();
    const cli = await cliHarness(t, {
      pulumi: { config: { signingSecrets: { value: JSON.stringify([old]), secret: true } } },
    });
    const result = await cli.run(['webhooks', 'create', '--url', RECEIVER]);
    assert.equal(result.code, 0, result.err);

    const post = cli.service.requests.find((r) => r.method === 'POST');
    assert.ok(post);
    assert.equal(post.path, '/v1beta/webhooks');
    assert.equal(post.apiKey, cli.service.apiKey);
    assert.deepEqual(post.body, { uri: RECEIVER, subscribed_events: [...SUBSCRIBABLE_EVENT_TYPES] });

    const [webhook] = [...cli.service.webhooks.values()];
    const secret = webhook!.secrets[0]!.secret;
    assert.deepEqual(storedSecrets(cli.pulumi), [secret, old]);
    assert.equal(cli.pulumi.state().config['signingSecrets']?.secret, true);
    // The secret travelled on stdin only, and was printed nowhere.
    assert.ok(!JSON.stringify(cli.pulumi.calls()).includes(secret.slice(6, 20)));
    assert.ok(!result.out.includes(secret) && !result.err.includes(secret));
    assert.match(result.out, /pulumi up/);
  },
);

test('create takes the receiver URL from the stack output and --events narrows the subscription', async (t) => {
  const cli = await cliHarness(t, { pulumi: { outputs: { receiverUrl: RECEIVER } } });
  const result = await cli.run([
    'webhooks',
    'create',
    '--events',
    'batch.succeeded, video.generated',
    '--name',
    'prod',
  ]);
  assert.equal(result.code, 0, result.err);
  const post = cli.service.requests.find((r) => r.method === 'POST');
  assert.deepEqual(post?.body, {
    uri: RECEIVER,
    subscribed_events: ['batch.succeeded', 'video.generated'],
    name: 'prod',
  });
  assert.equal(storedSecrets(cli.pulumi)?.length, 1);
  // The id is Gemini's; the name is only a label shown beside it.
  assert.match(result.out, /^webhook wh1 {2}"prod"$/m);
  assert.equal(result.err.includes('note:'), false, 'no note for event types the reference lists');
});

test("--events may name the cancelled types of the guide's catalog, with a one-line note", async (t) => {
  const cli = await cliHarness(t);
  const result = await cli.run([
    'webhooks',
    'create',
    '--url',
    RECEIVER,
    '--events',
    'batch.succeeded,batch.cancelled,interaction.cancelled',
  ]);
  assert.equal(result.code, 0, result.err);
  const post = cli.service.requests.find((r) => r.method === 'POST');
  assert.deepEqual((post?.body as { subscribed_events: string[] }).subscribed_events, [
    'batch.succeeded',
    'batch.cancelled',
    'interaction.cancelled',
  ]);
  const notes = result.err.split('\n').filter((line) => line.startsWith('note:'));
  assert.equal(notes.length, 1);
  assert.match(
    notes[0]!,
    /batch\.cancelled and interaction\.cancelled are in the event catalog of the Gemini guide \(https:\/\/ai\.google\.dev\/gemini-api\/docs\/webhooks\) but not in the API reference's list \(https:\/\/ai\.google\.dev\/api\/webhooks\)/,
  );
});

test('create refuses bad input before calling Gemini', async (t) => {
  const cli = await cliHarness(t);
  const unknown = await cli.run(['webhooks', 'create', '--url', RECEIVER, '--events', 'batch.completed']);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.err,
    /batch\.completed cannot be subscribed to; choose from batch\.succeeded, .*batch\.cancelled, interaction\.cancelled\./,
  );
  const http = await cli.run(['webhooks', 'create', '--url', 'http://localhost:8080/']);
  assert.equal(http.code, 2);
  assert.match(http.err, /must be https/);
  const noUrl = await cli.run(['webhooks', 'create']);
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.err, /--url is required/);
  assert.equal(cli.service.requests.length, 0);
});

/** The `pulumi config set ... < FILE && rm -r DIR` line printed when storing failed; its file's content. */
function printedFromFile(out: string): { command: string; file: string; secrets: string[] } {
  const match = /^ {2}(pulumi config set --secret signingSecrets.* < (\S+\/signing-secrets\.json) && rm -r \S+)$/m.exec(
    out,
  );
  assert.ok(match, out);
  const file = match[2]!;
  assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by the user only');
  return { command: match[1]!, file, secrets: JSON.parse(readFileSync(file, 'utf8')) as string[] };
}

test(
  'without the Pulumi CLI, create prints a command reading the secret from a private file, ' +
    'never the secret (--show-secret prints it), and exits 1',
  async (t) => {
    const cli = await cliHarness(t);
    const empty = mkdtempSync(join(tmpdir(), 'no-pulumi-'));
    t.after(() => rmSync(empty, { recursive: true, force: true }));
    const result = await cli.run(['webhooks', 'create', '--url', RECEIVER], { env: { ...cli.env, PATH: empty } });
    assert.equal(result.code, 1);
    const secret = [...cli.service.webhooks.values()][0]!.secrets[0]!.secret;
    assert.ok(!result.out.includes(secret) && !result.err.includes(secret), 'the secret is not printed');
    const printed = printedFromFile(result.out);
    t.after(() => rmSync(dirname(printed.file), { recursive: true, force: true }));
    assert.deepEqual(printed.secrets, [secret]);
    assert.match(result.out, /not installed/);

    const shown = await cli.run(['webhooks', 'create', '--url', RECEIVER, '--show-secret'], {
      env: { ...cli.env, PATH: empty },
    });
    const second = [...cli.service.webhooks.values()][1]!.secrets[0]!.secret;
    assert.ok(shown.out.includes(`pulumi config set --secret signingSecrets '${JSON.stringify([second])}'`), shown.out);
    assert.equal(shown.out.split(second).length - 1, 1, 'asked for: the secret appears exactly once');
  },
);

test(
  'when `pulumi config set` fails, create and rotate print no stored secret; the printed command ' + 'stores them all',
  async (t) => {
    const old = newSecret();
    const cli = await cliHarness(t, {
      pulumi: {
        config: { signingSecrets: { value: JSON.stringify([old]), secret: true } },
        failSet: 'no stack selected',
      },
    });
    const result = await cli.run(['webhooks', 'create', '--url', RECEIVER, '--stack', 'prod']);
    assert.equal(result.code, 1);
    const secret = [...cli.service.webhooks.values()][0]!.secrets[0]!.secret;
    assert.ok(!result.out.includes(old) && !result.out.includes(secret), result.out);
    assert.match(result.out, /no stack selected/);
    const printed = printedFromFile(result.out);
    assert.match(printed.command, /^pulumi config set --secret signingSecrets --stack prod < /);
    assert.deepEqual(printed.secrets, [secret, old]);

    // The printed line, run by a shell once Pulumi works again, stores the list and removes the file.
    const state = cli.pulumi.state();
    delete state.failSet;
    cli.pulumi.setState(state);
    const shell = spawnSync('sh', ['-c', printed.command], { env: { PATH: cli.pulumi.path }, encoding: 'utf8' });
    assert.equal(shell.status, 0, shell.stderr);
    assert.deepEqual(storedSecrets(cli.pulumi), [secret, old]);
    assert.equal(existsSync(printed.file), false, 'the file is gone');

    cli.pulumi.setState({ ...cli.pulumi.state(), failSet: 'no stack selected' });
    const rotated = await cli.run(['webhooks', 'rotate', '--stack', 'prod']);
    assert.equal(rotated.code, 1);
    for (const stored of [secret, old]) assert.ok(!rotated.out.includes(stored), rotated.out);
    const newest = [...cli.service.webhooks.values()][0]!.secrets[0]!.secret;
    assert.ok(!rotated.out.includes(newest));
    const again = printedFromFile(rotated.out);
    t.after(() => rmSync(dirname(again.file), { recursive: true, force: true }));
    assert.deepEqual(again.secrets, [newest, secret, old]);
  },
);

test('--show-secret prints the new secret; --json never shows it without the flag', async (t) => {
  const cli = await cliHarness(t);
  const hidden = await cli.run(['webhooks', 'create', '--url', RECEIVER, '--json']);
  assert.equal(hidden.code, 0, hidden.err);
  const first = [...cli.service.webhooks.values()][0]!.secrets[0]!.secret;
  assert.ok(!hidden.out.includes(first));
  assert.match(hidden.out, /"new_signing_secret": "\[stored in the stack config/);
  const shown = await cli.run(['webhooks', 'create', '--url', RECEIVER, '--show-secret']);
  const second = [...cli.service.webhooks.values()][1]!.secrets[0]!.secret;
  assert.ok(shown.out.includes(`New signing secret: ${second}`));
  assert.deepEqual(storedSecrets(cli.pulumi), [second, first]);
});

test('list follows next_page_token and explains disabled_due_to_failed_deliveries', async (t) => {
  const cli = await cliHarness(t);
  for (let i = 0; i < 3; i++) assert.equal((await cli.run(['webhooks', 'create', '--url', `${RECEIVER}${i}`])).code, 0);
  cli.service.webhooks.get('wh3')!.state = 'disabled_due_to_failed_deliveries';
  cli.service.requests.length = 0;
  const result = await cli.run(['webhooks', 'list']);
  assert.equal(result.code, 0, result.err);
  assert.equal(cli.service.requests.filter((r) => r.method === 'GET').length, 2, 'two pages');
  assert.deepEqual(cli.service.requests[1]?.query, { page_token: '2' });
  for (const id of ['wh1', 'wh2', 'wh3'])
    assert.match(result.out, new RegExp(`^webhook ${id}$`, 'm'), 'no label: the id alone');
  assert.match(result.out, /state: {3}disabled_due_to_failed_deliveries/);
  assert.match(result.out, /gemini-webhooks webhooks enable wh3/);
  // No public source says whether events from while it was disabled come later; the advice says so.
  assert.match(result.out, /documentation does not say whether events from while it was disabled are sent later/);
  const secret = cli.service.webhooks.get('wh1')!.secrets[0]!.secret;
  assert.ok(
    result.out.includes(`secrets: whsec_...${secret.slice(-4)} (current)`),
    'the secret as Gemini truncates it',
  );
  assert.match(result.out, /created: \d{4}-\d\d-\d\dT[^,]+, updated \d{4}-/);
  assert.doesNotMatch(result.out, /enable wh1/);
  const json = JSON.parse((await cli.run(['webhooks', 'list', '--json'])).out) as {
    webhooks: Array<{ state: string }>;
  };
  assert.deepEqual(
    json.webhooks.map((w) => w.state),
    ['enabled', 'enabled', 'disabled_due_to_failed_deliveries'],
  );
});

test('get, ping, enable, disable default to the only webhook; delete needs an id', async (t) => {
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  cli.service.requests.length = 0;

  const disable = await cli.run(['webhooks', 'disable']);
  assert.equal(disable.code, 0, disable.err);
  const patch = cli.service.requests.find((r) => r.method === 'PATCH');
  assert.equal(patch?.path, '/v1beta/webhooks/wh1');
  assert.deepEqual(patch?.body, { state: 'disabled' });
  assert.deepEqual(patch?.query, { update_mask: 'state' });
  assert.equal(cli.service.webhooks.get('wh1')?.state, 'disabled');

  assert.equal((await cli.run(['webhooks', 'enable', 'webhooks/wh1'])).code, 0);
  assert.equal(cli.service.webhooks.get('wh1')?.state, 'enabled');

  const get = await cli.run(['webhooks', 'get']);
  assert.match(get.out, /uri: {5}https:\/\/receiver-abc/);
  const ping = await cli.run(['webhooks', 'ping', 'wh1']);
  assert.equal(ping.code, 0);
  assert.match(ping.out, /unrouted topic .*tail --type unrouted/);
  assert.ok(cli.service.requests.some((r) => r.method === 'POST' && r.path === '/v1beta/webhooks/wh1:ping'));

  const noId = await cli.run(['webhooks', 'delete']);
  assert.equal(noId.code, 2);
  assert.equal((await cli.run(['webhooks', 'delete', 'wh1'])).code, 0);
  assert.equal(cli.service.webhooks.size, 0);

  const missing = await cli.run(['webhooks', 'get', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /404.*Webhook webhooks\/nope not found/);
});

test('update changes only the fields given, with a snake_case update_mask, and keeps id and secrets', async (t) => {
  const cli = await cliHarness(t);
  assert.equal((await cli.run(['webhooks', 'create', '--url', RECEIVER, '--name', 'prod'])).code, 0);
  const before = structuredClone(cli.service.webhooks.get('wh1')!);
  const stored = storedSecrets(cli.pulumi);
  cli.now.date = new Date(cli.now.date.getTime() + 60_000);
  cli.service.requests.length = 0;

  const events = await cli.run(['webhooks', 'update', '--events', 'batch.succeeded,batch.failed']);
  assert.equal(events.code, 0, events.err);
  const patch = cli.service.requests.find((r) => r.method === 'PATCH');
  assert.equal(patch?.path, '/v1beta/webhooks/wh1');
  assert.deepEqual(patch?.query, { update_mask: 'subscribed_events' });
  assert.deepEqual(patch?.body, { subscribed_events: ['batch.succeeded', 'batch.failed'] });
  const after = cli.service.webhooks.get('wh1')!;
  assert.deepEqual(after.subscribed_events, ['batch.succeeded', 'batch.failed']);
  assert.equal(after.uri, before.uri);
  assert.equal(after.name, 'prod');
  assert.deepEqual(after.secrets, before.secrets, 'the signing secret is unchanged');
  assert.deepEqual(storedSecrets(cli.pulumi), stored, 'nothing to store or deploy');
  assert.match(events.out, /^Updated subscribed_events of webhook wh1\.$/m);
  assert.match(events.out, /events: {2}batch\.succeeded, batch\.failed$/m);
  assert.ok(events.out.includes(`updated ${new Date(cli.now.date).toISOString()}`));

  const both = await cli.run([
    'webhooks',
    'update',
    'wh1',
    '--url',
    'https://receiver-new-uc.a.run.app/',
    '--name',
    'staging',
    '--json',
  ]);
  assert.equal(both.code, 0, both.err);
  const second = cli.service.requests.filter((r) => r.method === 'PATCH').at(-1);
  assert.deepEqual(second?.query, { update_mask: 'uri,name' });
  assert.deepEqual(second?.body, { uri: 'https://receiver-new-uc.a.run.app/', name: 'staging' });
  const json = JSON.parse(both.out) as { id: string; name: string; uri: string; subscribed_events: string[] };
  assert.deepEqual(
    [json.id, json.name, json.uri, json.subscribed_events],
    ['wh1', 'staging', 'https://receiver-new-uc.a.run.app/', ['batch.succeeded', 'batch.failed']],
  );

  assert.equal((await cli.run(['webhooks', 'update', '--name', ''])).code, 0);
  assert.equal(cli.service.webhooks.get('wh1')!.name, '', 'an empty label is sent, not dropped');
});

test('update refuses bad input before calling Gemini', async (t) => {
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  cli.service.requests.length = 0;
  const nothing = await cli.run(['webhooks', 'update', 'wh1']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.err, /say what to change with --events, --url or --name/);
  const http = await cli.run(['webhooks', 'update', 'wh1', '--url', 'http://localhost:8080/']);
  assert.equal(http.code, 2);
  assert.match(http.err, /must be https.*gemini-webhooks listen/);
  const unknown = await cli.run(['webhooks', 'update', 'wh1', '--events', 'batch.completed']);
  assert.equal(unknown.code, 2);
  assert.equal(cli.service.requests.length, 0);
  const cancelled = await cli.run(['webhooks', 'update', 'wh1', '--events', 'batch.cancelled']);
  assert.equal(cancelled.code, 0, cancelled.err);
  assert.match(cancelled.err, /^note: batch\.cancelled is in the event catalog of the Gemini guide/m);
});

test('the fake WebhookService applies update_mask as Google does', async (t) => {
  // The update tests above mean something only if the fake refuses what Gemini would refuse.
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER, '--name', 'prod']);
  const patch = (mask: string | undefined, body: unknown) =>
    fetch(`${cli.service.baseUrl}/webhooks/wh1${mask === undefined ? '' : `?update_mask=${mask}`}`, {
      method: 'PATCH',
      headers: { 'x-goog-api-key': cli.service.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const unmasked = await patch('name', { name: 'renamed', uri: 'https://elsewhere.example.com/' });
  assert.equal(unmasked.status, 200);
  assert.equal(cli.service.webhooks.get('wh1')!.uri, RECEIVER, 'a field outside the mask is ignored');
  assert.equal(cli.service.webhooks.get('wh1')!.name, 'renamed');
  for (const mask of ['subscribedEvents', 'id', 'signing_secrets', 'create_time', 'bogus']) {
    const refused = await patch(mask, {});
    assert.equal(refused.status, 400, mask);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /Invalid update_mask/);
  }
  assert.equal((await patch('uri', {})).status, 400, 'a required field cannot be cleared');
  assert.equal((await patch('name', {})).status, 200);
  assert.equal(cli.service.webhooks.get('wh1')!.name, undefined, 'a masked field missing from the body is cleared');
  assert.equal((await patch(undefined, { state: 'disabled' })).status, 200, 'no mask: the fields in the body');
  assert.equal(cli.service.webhooks.get('wh1')!.state, 'disabled');
});

test('with several webhooks, a command without an id names them instead of guessing', async (t) => {
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  const result = await cli.run(['webhooks', 'rotate']);
  assert.equal(result.code, 2);
  assert.match(result.err, /2 webhooks; name one by id: wh1, wh2/);
});

test(
  'rotate keeps the old secrets valid 24 h by default, ' + 'prepends the new one, and says what to do next',
  async (t) => {
    const cli = await cliHarness(t);
    await cli.run(['webhooks', 'create', '--url', RECEIVER]);
    const first = storedSecrets(cli.pulumi)![0]!;
    const result = await cli.run(['webhooks', 'rotate']);
    assert.equal(result.code, 0, result.err);
    const rotate = cli.service.requests.find((r) => r.path.endsWith(':rotateSigningSecret'));
    assert.deepEqual(rotate?.body, { revocation_behavior: 'revoke_previous_secrets_after_h24' });
    const issued = cli.service.webhooks.get('wh1')!.secrets[0]!.secret;
    assert.deepEqual(storedSecrets(cli.pulumi), [issued, first]);
    assert.ok(!result.out.includes(issued));
    assert.match(result.out, /pulumi up/);
    assert.match(result.out, /After 24 hours.*webhooks prune/);

    await cli.run(['webhooks', 'rotate', 'wh1', '--immediately']);
    const last = cli.service.requests.filter((r) => r.path.endsWith(':rotateSigningSecret')).at(-1);
    assert.deepEqual(last?.body, { revocation_behavior: 'revoke_previous_secrets_immediately' });
    assert.equal(storedSecrets(cli.pulumi)?.length, 3);
  },
);

test('prune drops only the secrets whose expire_time has passed', async (t) => {
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  await cli.run(['webhooks', 'rotate']);
  const [current, previous] = storedSecrets(cli.pulumi)!;

  const early = await cli.run(['webhooks', 'prune']);
  assert.equal(early.code, 0, early.err);
  assert.match(early.out, /Nothing to prune/);
  assert.deepEqual(storedSecrets(cli.pulumi), [current, previous]);

  cli.now.date = new Date(cli.now.date.getTime() + 25 * 3600_000);
  const dry = await cli.run(['webhooks', 'prune', '--dry-run']);
  assert.match(dry.out, /drop #2/);
  assert.deepEqual(storedSecrets(cli.pulumi), [current, previous]);

  const pruned = await cli.run(['webhooks', 'prune']);
  assert.equal(pruned.code, 0, pruned.err);
  assert.deepEqual(storedSecrets(cli.pulumi), [current]);
  assert.match(pruned.out, /pulumi up/);
  assert.ok(!pruned.out.includes(previous!) && !pruned.out.includes(current!));
});

test('prune keeps secrets Gemini does not list unless --drop-unlisted, and never the newest', async (t) => {
  const stray = newSecret();
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  const [current] = storedSecrets(cli.pulumi)!;
  cli.pulumi.setState({
    ...cli.pulumi.state(),
    config: { signingSecrets: { value: JSON.stringify([stray, current, newSecret()].slice(0, 2)), secret: true } },
  });
  const kept = await cli.run(['webhooks', 'prune']);
  assert.match(kept.out, /no webhook lists it \(kept/);
  assert.deepEqual(storedSecrets(cli.pulumi), [stray, current]);
  const dropped = await cli.run(['webhooks', 'prune', '--drop-unlisted']);
  assert.equal(dropped.code, 0);
  assert.match(dropped.out, /newest secret \(kept\)/);
  assert.deepEqual(storedSecrets(cli.pulumi), [stray, current]);

  const other = newSecret();
  cli.pulumi.setState({
    ...cli.pulumi.state(),
    config: { signingSecrets: { value: JSON.stringify([current, other]), secret: true } },
  });
  await cli.run(['webhooks', 'prune', '--drop-unlisted']);
  assert.deepEqual(storedSecrets(cli.pulumi), [current]);
});

test('a missing API key fails in one line before any request', async (t) => {
  const cli = await cliHarness(t);
  const result = await cli.run(['webhooks', 'list'], { env: { ...cli.env, GEMINI_API_KEY: undefined } });
  assert.equal(result.code, 1);
  assert.match(
    result.err,
    /^gemini-webhooks: GEMINI_API_KEY is not set: create one at https:\/\/aistudio\.google\.com\/apikey/,
  );
  assert.equal(result.err.split('\n').length, 1);
  assert.equal(cli.service.requests.length, 0);
});

test("4xx errors show Gemini's own message", async (t) => {
  const cli = await cliHarness(t);
  const result = await cli.run(['webhooks', 'list'], { env: { ...cli.env, GEMINI_API_KEY: 'wrong' } });
  assert.equal(result.code, 1);
  assert.match(
    result.err,
    /GET \/v1beta\/webhooks failed with 403: PERMISSION_DENIED: API key not valid\. Please pass a valid API key \(is GEMINI_API_KEY/,
  );
  assert.equal(cli.service.requests.length, 1, '4xx is not retried');
});

test('reads retry 5xx and 429 with backoff, honouring Retry-After', async (t) => {
  const cli = await cliHarness(t);
  cli.service.failNext(2, 503);
  cli.service.failNext(1, 429, { retryAfter: '7' });
  const result = await cli.run(['webhooks', 'list']);
  assert.equal(result.code, 0, result.err);
  assert.equal(cli.sleeps.length, 3);
  assert.ok(cli.sleeps[1]! > cli.sleeps[0]! / 2, 'backoff does not shrink');
  assert.equal(cli.sleeps[2], 7000);
});

test('persistent 5xx gives up after the attempts with the message; create is not retried on 5xx', async (t) => {
  const cli = await cliHarness(t);
  cli.service.failNext(10, 500, { message: 'Internal error encountered.' });
  const list = await cli.run(['webhooks', 'list']);
  assert.equal(list.code, 1);
  assert.match(list.err, /failed with 500 after 4 attempts: INTERNAL: Internal error encountered/);
  assert.equal(cli.service.requests.length, 4);

  const before = cli.service.requests.length;
  const create = await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  assert.equal(create.code, 1);
  assert.equal(cli.service.requests.length, before + 1);
  assert.match(create.err, /may have reached Gemini: check with `gemini-webhooks webhooks list`/);
});

test('create is retried on 429 (refused, not executed)', async (t) => {
  const cli = await cliHarness(t);
  cli.service.failNext(1, 429, { method: 'POST', message: 'Quota exceeded.' });
  const result = await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  assert.equal(result.code, 0, result.err);
  assert.equal(cli.service.webhooks.size, 1);
  assert.equal(cli.sleeps.length, 1);
});

test('a network failure is one clear line', async (t) => {
  const cli = await cliHarness(t);
  const baseUrl = cli.service.baseUrl;
  await cli.service.close();
  const result = await cli.run(['webhooks', 'get', 'wh1', '--base-url', baseUrl]);
  assert.equal(result.code, 1);
  assert.match(
    result.err,
    /^gemini-webhooks: Could not reach the Gemini API at http:\/\/127\.0\.0\.1:\d+ \(GET \/v1beta\/webhooks\/wh1\): ECONNREFUSED after 4 attempts\.$/,
  );
});

test('unknown commands and flags are usage errors (exit 2)', async (t) => {
  const cli = await cliHarness(t);
  assert.equal((await cli.run([])).code, 2);
  assert.equal((await cli.run(['webhooks', 'frobnicate'])).code, 2);
  const flag = await cli.run(['webhooks', 'list', '--bogus']);
  assert.equal(flag.code, 2);
  assert.match(flag.err, /Unknown option '--bogus'/);
  assert.equal((await cli.run(['webhooks', 'rotate', '--help'])).code, 0);
});

test('the gemini-webhooks executable runs from the .ts sources and exits with the status', async (t) => {
  const cli = await cliHarness(t);
  await cli.run(['webhooks', 'create', '--url', RECEIVER]);
  const env = { ...process.env, ...cli.env };
  // Asynchronously: the fake service answers from this process's event loop.
  const bin = (extra: NodeJS.ProcessEnv) =>
    promisify(execFile)(process.execPath, [join(repoRoot, 'cli', 'bin.js'), 'webhooks', 'list'], {
      env: { ...env, ...extra },
      timeout: 60_000,
    }).then(
      (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ status: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const ok = await bin({});
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /webhook wh1/);
  const noKey = await bin({ GEMINI_API_KEY: '' });
  assert.equal(noKey.status, 1);
  assert.match(noKey.stderr, /GEMINI_API_KEY is not set/);
});
