/**
 * The mistakes TypeScript does not catch, each refused with one line that says what is wrong: a
 * misspelled argument from JavaScript, an `http://` push endpoint that is an output of another
 * resource, and one consumer declared twice. Each program runs in a process of its own under the
 * model's mocks (installed directly: mocks.ts's `installMocks` belongs to test files, and its node:test
 * hook would take the child's uncaught errors), which reports what the program failed with as
 * `pulumi up` would: the first line of each error. What the model refuses is recorded, not thrown.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { unknownArgumentProblem } from '../../infra/argument-names.ts';

const url = (relative: string) => pathToFileURL(new URL(relative, import.meta.url).pathname).href;

/**
 * Runs `body` (JavaScript, with pulumi, GeminiWebhooks, EventSubscription and PROJECT in scope);
 * returns the errors it failed with.
 */
function failuresOf(body: string): string[] {
  const program = `
    const errors = new Set();
    const report = (error) => errors.add(String(error instanceof Error ? error.message : error).split('\\n')[0]);
    process.on('unhandledRejection', report);
    process.on('uncaughtException', report);
    process.on('beforeExit', () => { process.stdout.write(JSON.stringify([...errors])); process.exit(0); });
    const pulumi = await import('@pulumi/pulumi');
    const { PROJECT } = await import(${JSON.stringify(url('./mocks.ts'))});
    const { installGcpModel } = await import(${JSON.stringify(url('./gcp-model.ts'))});
    await installGcpModel({ project: PROJECT, onViolation: 'record' });
    const { GeminiWebhooks } = await import(${JSON.stringify(url('../../infra/components/gemini-webhooks.ts'))});
    const { EventSubscription } = await import(${JSON.stringify(url('../../infra/components/event-subscription.ts'))});
    try { ${body} } catch (error) { report(error); }
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
    cwd: new URL('../..', import.meta.url).pathname,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as string[];
}

describe('a misspelled argument', () => {
  it('is refused by GeminiWebhooks from JavaScript, naming the argument meant', () => {
    assert.deepEqual(
      failuresOf(`new GeminiWebhooks('gemini', { project: PROJECT, alertEmail: ['oncall@example.com'] });`),
      ['GeminiWebhooks gemini: unknown argument `alertEmail` (did you mean `alertEmails`?).'],
    );
  });

  it('is refused by EventSubscription too', () => {
    assert.deepEqual(
      failuresOf(
        `new EventSubscription('billing',
          { project: PROJECT, topicPrefix: 'gemini', consumer: 'billing', eventType: ['*'] });`,
      ),
      ['EventSubscription billing: unknown argument `eventType` (did you mean `eventTypes`?).'],
    );
  });

  it('lists what the component takes when nothing is close', () => {
    const problem = unknownArgumentProblem({ project: 'p', colour: 'blue' }, ['project', 'region']);
    assert.equal(problem, 'unknown argument `colour` (it takes `project`, `region`)');
    assert.equal(unknownArgumentProblem({ project: 'p' }, ['project', 'region']), undefined);
  });
});

describe('an http:// push endpoint that is an output of another resource', () => {
  it('fails the update with one line once its value is known', () => {
    const failures = failuresOf(`
      new GeminiWebhooks('gemini', { project: PROJECT, subscriptions: [
        { name: 'billing', eventTypes: ['batch.succeeded'],
          push: { endpoint: pulumi.output('http://billing.example.com/gemini') } },
      ] });`);
    assert.deepEqual(failures, [
      'EventSubscription gemini-consumer-billing: push.endpoint must be an https:// URL (got "http://billing.example.com/gemini")',
    ]);
  });

  it('passes when it is https', () => {
    const failures = failuresOf(`
      new GeminiWebhooks('gemini', { project: PROJECT, subscriptions: [
        { name: 'billing', eventTypes: ['batch.succeeded'],
          push: { endpoint: pulumi.output('https://billing.example.com/gemini') } },
      ] });`);
    assert.deepEqual(failures, []);
  });
});

describe('one consumer declared twice', () => {
  it('in subscriptions and as an EventSubscription: the second is refused', () => {
    const failures = failuresOf(`
      new GeminiWebhooks('gemini',
        { project: PROJECT, subscriptions: [{ name: 'billing', eventTypes: ['batch.succeeded'] }] });
      new EventSubscription('billing',
        { project: PROJECT, topicPrefix: 'gemini', consumer: 'billing', eventTypes: ['batch.failed'] });`);
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.match(
      failures[0]!,
      new RegExp(
        '^EventSubscription billing: consumer "billing" already has its subscriptions \\(gemini-\\*-billing\\) ' +
          'in project \\S+, declared by gemini-consumer-billing; declare each consumer once',
      ),
    );
  });

  it('with a project that is an output, when the project is known', () => {
    const failures = failuresOf(`
      const audit = { project: pulumi.output(PROJECT), topicPrefix: 'gemini', consumer: 'audit', eventTypes: ['*'] };
      new EventSubscription('first', audit);
      new EventSubscription('second', audit);`);
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.match(failures[0]!, /^EventSubscription second: consumer "audit" already has its subscriptions/);
  });

  it('under another topic prefix it is another consumer', () => {
    const failures = failuresOf(`
      new EventSubscription('a', { project: PROJECT, topicPrefix: 'gemini', consumer: 'audit', eventTypes: ['*'] });
      new EventSubscription('b', { project: PROJECT, topicPrefix: 'staging', consumer: 'audit', eventTypes: ['*'] });`);
    assert.deepEqual(failures, []);
  });
});
