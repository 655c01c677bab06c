/**
 * The deployment with `jwtReceiverSecret` set, under Pulumi mocks (the Google Cloud model): its own
 * Secret Manager secret, a version whose data is a Pulumi secret, the function reading it as the
 * secret environment variable `WEBHOOK_JWT_RECEIVER_SECRET`, and the runtime identity's accessor grant
 * on that secret only. A process of its own: the fixture of stack.test.ts has no receiver secret.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { planNames } from '../../infra/plan.ts';
import {
  DEPLOYMENT,
  fixtureArgs,
  fixtureSettings,
  installMocks,
  named,
  ofType,
  PROJECT,
  recorded,
  RECEIVER_SECRET,
  resolve,
  settled,
} from './mocks.ts';

await installMocks();

const { GeminiWebhooks } = await import('../../infra/components/gemini-webhooks.ts');
const config = { jwtReceiverSecret: RECEIVER_SECRET, secretReplication: 'europe-west1,europe-west4' };
const settings = fixtureSettings(config);
const webhooks = new GeminiWebhooks(DEPLOYMENT, fixtureArgs(config));
const names = planNames(settings.topicPrefix);
const n = (name: string): string => `${DEPLOYMENT}-${name}`;

const SECRET = 'gcp:secretmanager/secret:Secret';
const VERSION = 'gcp:secretmanager/secretVersion:SecretVersion';
const SECRET_MEMBER = 'gcp:secretmanager/secretIamMember:SecretIamMember';
const FUNCTION = 'gcp:cloudfunctionsv2/function:Function';

before(settled);

const secret = () => named(SECRET, n('jwt-receiver-secret'));
const version = () => named(VERSION, n('jwt-receiver-secret-current'));
const fn = () => ofType(FUNCTION)[0]!;

describe('the JWT receiver secret', () => {
  it('is a Secret Manager secret of its own, replicated and guarded like the signing secret', () => {
    assert.equal(secret().inputs.secretId, names.receiverSecretId);
    assert.notEqual(names.receiverSecretId, names.secretId);
    assert.equal(secret().inputs.project, PROJECT);
    const signing = named(SECRET, n('signing-secrets'));
    assert.deepEqual(secret().inputs.replication, {
      userManaged: { replicas: [{ location: 'europe-west1' }, { location: 'europe-west4' }] },
    });
    assert.deepEqual(secret().inputs.replication, signing.inputs.replication);
    assert.equal(secret().protect, true, 'protected from deletion, as protectData says');
    assert.deepEqual(secret().ignoreChanges.sort(), ['project', 'replication', 'secretId']);
  });

  it('holds one version whose data reaches the resource as a Pulumi secret only', () => {
    const versions = ofType(VERSION).filter((v) => v.name.startsWith(n('jwt-receiver-secret')));
    assert.deepEqual(
      versions.map((v) => v.name),
      [n('jwt-receiver-secret-current')],
    );
    assert.equal(version().inputs.secret, secret().id);
    // The mocks hand a secret input over in Pulumi's wire form: marked, with the value inside.
    assert.equal(version().inputs.secretData.value, RECEIVER_SECRET);
    assert.deepEqual(version().secretInputs, ['secretData']);
    assert.equal(version().inputs.deletionPolicy, 'DISABLE');
  });

  it('reaches the function as the secret environment variable WEBHOOK_JWT_RECEIVER_SECRET, by reference', () => {
    const config = fn().inputs.serviceConfig;
    assert.deepEqual(config.secretEnvironmentVariables, [
      {
        key: 'WEBHOOK_JWT_RECEIVER_SECRET',
        projectId: PROJECT,
        secret: names.receiverSecretId,
        version: version().state['version'],
      },
    ]);
    assert.equal(version().state['version'], '1');
    assert.equal(config.environmentVariables['WEBHOOK_JWT_RECEIVER_SECRET'], undefined);
    assert.ok(!JSON.stringify(fn().inputs).includes(RECEIVER_SECRET), 'no secret value in the function');
    assert.ok(fn().dependencies.includes(version().urn), 'the function follows the version');
  });

  it("lets the receiver's runtime identity read this secret, as accessor, on the secret only", () => {
    const runtime = named('gcp:serviceaccount/account:Account', n('receiver-runtime'));
    const member = `serviceAccount:${runtime.state['email']}`;
    const grants = recorded.filter((r) => r.type === SECRET_MEMBER && r.inputs.secretId === names.receiverSecretId);
    assert.deepEqual(
      grants.map((g) => [g.name, g.inputs.project, g.inputs.role, g.inputs.member]),
      [[n('receiver-reads-jwt-receiver-secret'), PROJECT, 'roles/secretmanager.secretAccessor', member]],
    );
    assert.ok(fn().dependencies.includes(grants[0]!.urn), 'the function is deployed after the grant');
    assert.deepEqual(
      recorded.filter((r) => r.type === 'gcp:projects/iAMMember:IAMMember' && /secretmanager/.test(r.inputs.role)),
      [],
      'no Secret Manager role project-wide',
    );
    const others = recorded.filter(
      (r) => r.inputs.member === member && r.type !== 'gcp:pubsub/topicIAMMember:TopicIAMMember',
    );
    assert.deepEqual(
      others.map((g) => [g.inputs.secretId, g.inputs.role]),
      [
        [names.secretId, 'roles/secretmanager.viewer'],
        [names.secretId, 'roles/secretmanager.secretAccessor'],
        [names.receiverSecretId, 'roles/secretmanager.secretAccessor'],
      ],
    );
  });

  it('keeps the value out of every stack output', async () => {
    const outputs = await resolve(
      pulumi.output({
        receiverUrl: webhooks.receiverUrl,
        signingSecretId: webhooks.signingSecretId,
        nextStep: webhooks.nextStep,
        receiverServiceAccount: webhooks.receiverServiceAccount,
      }),
    );
    assert.ok(!JSON.stringify(outputs).includes(RECEIVER_SECRET));
  });
});
