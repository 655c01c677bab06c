import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createStaticKeyProvider, fixedSecretSource, type SigningSecretSource } from '../../functions/signing-keys.ts';
import { KeyFormatError } from '../../functions/verify/keys.ts';
import { verifyStandardWebhook } from '../../functions/verify/standard-webhooks.ts';

const GOOD = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const OLDER = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;

function signedWith(secret: string): { id: string; timestamp: string; signature: string; body: Buffer } {
  const at = new Date();
  const body = '{"type":"batch.succeeded"}';
  return {
    id: 'msg_1',
    timestamp: String(Math.floor(at.getTime() / 1000)),
    signature: new Webhook(secret).sign('msg_1', at, body),
    body: Buffer.from(body),
  };
}

test('a secret that does not decode is reported and skipped; the others keep verifying', async () => {
  const problems: string[] = [];
  const provider = createStaticKeyProvider(fixedSecretSource(['whsec_not base64!', OLDER]), [], (problem) =>
    problems.push(problem),
  );
  const keys = await provider.keys();
  assert.equal(keys.hmacKeys.length, 1);
  const delivery = signedWith(OLDER);
  const result = verifyStandardWebhook(delivery, delivery.body, keys, {
    nowSeconds: Number(delivery.timestamp),
    toleranceSeconds: 300,
  });
  assert.equal(result.ok, true);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^signing secret 1 of 2 \(newest first\) is not a Standard Webhooks secret/);
  assert.ok(!problems[0]!.includes('not base64!'), 'the bad value is not echoed');
  await provider.keys();
  assert.equal(problems.length, 1, 'an unchanged list is decoded, and reported, once');
});

test('a list with no usable secret is an outage (the edge answers 503), not an empty key set', async () => {
  const provider = createStaticKeyProvider(fixedSecretSource(['whsec_%%%', 'nope!']), []);
  await assert.rejects(provider.keys(), KeyFormatError);
});

test('a new list from the source is decoded again; a mismatch asks the source to refresh', async () => {
  let current: readonly string[] = [OLDER];
  let refreshes = 0;
  const source: SigningSecretSource = { current: async () => current, refreshAfterFailure: () => void refreshes++ };
  const provider = createStaticKeyProvider(source, []);
  const before = await provider.keys();
  current = [GOOD, OLDER];
  const after = await provider.keys();
  assert.equal(before.hmacKeys.length, 1);
  assert.equal(after.hmacKeys.length, 2);
  provider.signatureMismatch();
  assert.equal(refreshes, 1);
});
