/** The refusal of changes that would replace data (infra/replacement.ts), pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparable, replacementOf, replacementRefusal } from '../../infra/replacement.ts';

describe('replacementOf', () => {
  it('compares paths by their last segment and replication by its regions, as the provider may store them', () => {
    assert.equal(comparable('topic', 'projects/p/topics/gemini-batch-failed'), 'gemini-batch-failed');
    assert.equal(
      comparable('replication', { auto: { customerManagedEncryption: null }, userManaged: null }),
      'automatic',
    );
    assert.equal(
      comparable('replication', {
        userManaged: { replicas: [{ location: 'europe-west4' }, { location: 'europe-west1' }] },
      }),
      'europe-west1,europe-west4',
    );
    assert.equal(
      replacementOf('subscription', { name: 's', topic: 'projects/p/topics/t' }, { name: 's', topic: 't' }),
      undefined,
    );
  });

  it('names each changed input', () => {
    assert.deepEqual(
      replacementOf('function', { name: 'f', location: 'us-central1' }, { name: 'f', location: 'europe-west1' }),
      {
        kind: 'function',
        resource: 'f',
        changed: [{ input: 'location', deployed: 'us-central1', configured: 'europe-west1' }],
      },
    );
  });
});

describe('replacementRefusal', () => {
  it('says in one line what would be lost and the ways forward', () => {
    const line = replacementRefusal([
      { kind: 'topic', resource: 'gemini-x', changed: [{ input: 'name', deployed: 'gemini-x', configured: 'acme-x' }] },
      {
        kind: 'secret',
        resource: 'gemini-s',
        changed: [{ input: 'secretId', deployed: 'gemini-s', configured: 'acme-s' }],
      },
    ]);
    assert.doesNotMatch(line, /\n/);
    assert.match(
      line,
      /^Changing topicPrefix would replace topic gemini-x \(name gemini-x -> acme-x\) and 1 more, losing its retained messages and other stacks' subscriptions to it, the signing secrets\./,
    );
    assert.match(line, /deploy the new one as a second stack/);
    assert.match(line, /`pulumi config set allowReplacement true`/);
  });
});
