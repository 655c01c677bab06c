/**
 * The first-deploy shape under mocks: no signing secret yet, APIs managed elsewhere, and an
 * organisation that forbids allUsers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODEL_APIS } from './gcp-model.ts';
import { DEPLOYMENT, fixtureArgs, installMocks, ofType, recorded, resolve, settled } from './mocks.ts';

// A platform team enabled the APIs before the first deploy.
await installMocks({ enabledApis: MODEL_APIS });
const { GeminiWebhooks } = await import('../../infra/components/gemini-webhooks.ts');
const webhooks = new GeminiWebhooks(
  DEPLOYMENT,
  fixtureArgs({ signingSecrets: '', publicInvoker: 'none', enableApis: 'false', subscriptions: '', alertEmails: '' }),
);
await settled();

describe('minimal stack', () => {
  it('opens the receiver to nobody when publicInvoker is none', () => {
    assert.deepEqual(ofType('gcp:cloudrunv2/serviceIamMember:ServiceIamMember'), []);
    assert.deepEqual(
      recorded.filter((r) => JSON.stringify(r.inputs).includes('allUsers')),
      [],
    );
  });

  it('leaves APIs alone when enableApis is false', () => {
    assert.deepEqual(ofType('gemini-webhooks-pubsub:index:RequiredApis'), []);
    assert.deepEqual(ofType('gcp:projects/service:Service'), []);
  });

  it('creates the secret without versions and says to register the URL and store its secret', async () => {
    assert.equal(ofType('gcp:secretmanager/secret:Secret').length, 1);
    assert.deepEqual(ofType('gcp:secretmanager/secretVersion:SecretVersion'), []);
    const next = await resolve(webhooks.nextStep);
    assert.match(next, /Register https:\/\/\S+ with Gemini and store its signing secret/);
    assert.match(next, /npx gemini-webhooks webhooks create && pulumi up/);
  });

  it('skips the consumer-lag alert without consumers and creates no notification channel', () => {
    assert.equal(ofType('gcp:monitoring/alertPolicy:AlertPolicy').length, 3);
    assert.deepEqual(ofType('gcp:monitoring/notificationChannel:NotificationChannel'), []);
  });
});
