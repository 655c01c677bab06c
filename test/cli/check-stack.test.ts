// How `check` reads a deployed stack through the Pulumi CLI (the fake `pulumi` executable): the outputs
// the program exports, the project from the secret's resource name, the stored secrets from the stack
// config; and a stack that was never deployed, which is one failed line with the fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeploymentUnreadable, readStackDeployment } from '../../cli/check/deployment.ts';
import { createPulumiRunner } from '../../cli/pulumi.ts';
import { defaultContext } from '../../cli/context.ts';
import { installFakePulumi } from './fake-pulumi.ts';
import { newSecret } from './fake-webhook-service.ts';
import { cliHarness } from './harness.ts';

test('check reads the stack outputs, the project and the stored secrets of a deployed stack', async (t) => {
  const secret = newSecret();
  const fake = installFakePulumi({
    config: { signingSecrets: { value: JSON.stringify([secret]), secret: true } },
    outputs: {
      receiverUrl: 'https://gemini-webhook-receiver-abc-ew.a.run.app/',
      topicPrefix: 'acme',
      signingSecretId: 'projects/my-project/secrets/acme-webhook-signing-secrets',
      consumerSubscriptions: { billing: { 'batch.succeeded': 'acme-batch-succeeded-billing' } },
    },
  });
  t.after(() => fake.cleanup());
  const env = { PATH: fake.path };
  const deployment = await readStackDeployment(
    defaultContext({ env, pulumi: createPulumiRunner({ env }) }),
    { stack: 'prod' },
    undefined,
  );
  assert.deepEqual(deployment, {
    source: 'stack prod',
    local: false,
    projectId: 'my-project',
    receiverUrl: 'https://gemini-webhook-receiver-abc-ew.a.run.app/',
    prefix: 'acme',
    consumers: { billing: { 'batch.succeeded': 'acme-batch-succeeded-billing' } },
    storedSecrets: [secret],
    signingSecretId: 'projects/my-project/secrets/acme-webhook-signing-secrets',
  });
  assert.ok(fake.calls().every((argv) => argv.includes('--stack') && argv.includes('prod')));
});

test('a stack that was never deployed fails the first hop with the fix, and nothing else runs', async (t) => {
  const cli = await cliHarness(t, { pulumi: { outputs: {} } });
  const run = await cli.run(['check']);
  assert.equal(run.code, 1);
  assert.equal(
    run.out.split('\n')[0],
    'failed  stack: the selected stack has no output receiverUrl: it has not been deployed. ' +
      'Fix: `pulumi up` (or `check --before-deploy` to see what a first deploy will meet).',
  );
  assert.match(run.out, /skipped everything else: needs the deployment's outputs\.\n0 passed, 1 failed, 1 skipped\.$/);
  assert.ok(
    await readStackDeployment(
      defaultContext({ env: cli.env, pulumi: createPulumiRunner({ env: cli.env }) }),
      {},
      undefined,
    ).then(
      () => false,
      (error: unknown) => error instanceof DeploymentUnreadable,
    ),
  );
});
