/**
 * The real entry point (`infra/index.ts`, Pulumi.yaml's `main`) under mocks, with config as a
 * stack would hold it and the repository's own receiver sources.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { installMocks, ofType, RECEIVER_SECRET, resolve, SECRET_NEW } from './mocks.ts';

const entryPresent = existsSync(path.resolve(import.meta.dirname, '..', '..', 'functions', 'index.ts'));

describe('infra/index.ts', { skip: entryPresent ? false : 'functions/index.ts has not landed yet' }, () => {
  it('reads the stack config and exports the receiver URL, topics, secret id and next step', async () => {
    // Secrets as `pulumi config set --secret` stores them.
    pulumi.runtime.setAllConfig(
      {
        'gcp:project': 'acme-webhooks',
        'gcp:region': 'us-central1',
        'gemini-webhooks-pubsub:signingSecrets': JSON.stringify([SECRET_NEW]),
        'gemini-webhooks-pubsub:jwtReceiverSecret': RECEIVER_SECRET,
      },
      ['gemini-webhooks-pubsub:signingSecrets', 'gemini-webhooks-pubsub:jwtReceiverSecret'],
    );
    await installMocks();
    const program = await import('../../infra/index.ts');
    const outputs = await resolve(
      pulumi.output({
        receiverUrl: program.receiverUrl,
        topics: program.topics,
        signingSecretId: program.signingSecretId,
        nextStep: program.nextStep,
        deadLetterSubscriptions: program.deadLetterSubscriptions,
      }),
    );
    assert.match(outputs.receiverUrl, /^https:\/\//);
    assert.equal(outputs.topics['batch.succeeded'], 'gemini-batch-succeeded');
    assert.equal(outputs.deadLetterSubscriptions['unrouted'], 'gemini-unrouted-dead-letter');
    assert.equal(outputs.signingSecretId, 'projects/acme-webhooks/secrets/gemini-webhook-signing-secrets');
    assert.match(outputs.nextStep, /Gemini/);
    assert.ok(!JSON.stringify(outputs).includes(SECRET_NEW.slice(6)));
    assert.ok(!JSON.stringify(outputs).includes(RECEIVER_SECRET));
    const fn = ofType('gcp:cloudfunctionsv2/function:Function')[0];
    assert.deepEqual(
      fn?.inputs.serviceConfig.secretEnvironmentVariables.map((v: { key: string; secret: string }) => [
        v.key,
        v.secret,
      ]),
      [['WEBHOOK_JWT_RECEIVER_SECRET', 'gemini-webhook-jwt-receiver-secret']],
    );
    const version = ofType('gcp:secretmanager/secretVersion:SecretVersion').find((v) =>
      v.name.includes('jwt-receiver-secret'),
    );
    assert.deepEqual(version?.secretInputs, ['secretData']);
    assert.match(fn?.inputs.buildConfig.source.storageSource.object, /^receiver-[0-9a-f]{20}\.zip$/);
  });
});
