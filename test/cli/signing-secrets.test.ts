// The pure rules behind `webhooks prune`: matching Gemini's truncated_secret to a stored secret and
// deciding what to drop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSecret, matchesTruncated, planPrune, prependSecret } from '../../cli/signing-secrets.ts';
import { fingerprintOf } from '../../infra/signing-secret.ts';

const A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const NOW = new Date('2026-03-01T12:00:00Z');
const PAST = '2026-03-01T11:59:59Z';
const FUTURE = '2026-03-02T12:00:00Z';

test("Gemini's truncated form (whsec_... and the last four characters) matches the secret it stands for", () => {
  assert.ok(matchesTruncated(A, 'whsec_...LaSw'));
  assert.ok(!matchesTruncated(B, 'whsec_...LaSw'));
  assert.ok(matchesTruncated(B, 'whsec_...b7oD'));
  assert.ok(!matchesTruncated(A, 'whsec_...aSw'), 'three characters are too few to go by');
});

test('a truncated secret matches by its visible beginning and end, in any common mask style', () => {
  for (const shown of [
    'whsec_MfKQ...LaSw',
    'whsec_MfKQ…LaSw',
    'MfKQ****LaSw',
    'whsec_MfKQ9r8G••••',
    '...LaLaSw',
    'whsec_MfKQ...ILPZ...LaSw',
    A,
  ]) {
    assert.ok(matchesTruncated(A, shown), shown);
    assert.ok(!matchesTruncated(B, shown), `${shown} must not match B`);
  }
});

test('too little shown, a wrong order or an overlap matches nothing', () => {
  assert.ok(!matchesTruncated(A, 'whsec_Mf...w'), 'fewer than 4 visible characters');
  assert.ok(!matchesTruncated(A, '****'));
  assert.ok(!matchesTruncated(A, 'whsec_MfKQ...ILPZ...PD8I...LaSw'), 'fragments out of order');
  assert.ok(!matchesTruncated('whsec_abcdef', 'whsec_abcdef...cdef'), 'prefix and suffix overlap');
  assert.ok(!matchesTruncated(A, 'whsec_MfKQ'), 'no mask means the whole secret');
});

test('planPrune drops only secrets whose every listing has expired', () => {
  const webhooks = [
    {
      id: 'w1',
      signing_secrets: [
        { truncated_secret: 'whsec_...b7oD' },
        { truncated_secret: 'whsec_...LaSw', expire_time: PAST },
      ],
    },
  ];
  const plan = planPrune([B, A], webhooks, { now: NOW });
  assert.deepEqual(plan.keep, [B]);
  assert.deepEqual(plan.drop, [A]);
  assert.deepEqual(plan.verdicts[1], { action: 'drop', why: 'expired', expireTime: PAST });

  const grace = planPrune([B, A], [{ signing_secrets: [{ truncated_secret: 'whsec_...LaSw', expire_time: FUTURE }] }], {
    now: NOW,
  });
  assert.deepEqual(grace.drop, []);
  assert.deepEqual(grace.verdicts[1], { action: 'keep', why: 'valid', expireTime: FUTURE });

  // Listed expired by one webhook but current on another: still in use.
  const shared = planPrune(
    [A],
    [
      { id: 'w1', signing_secrets: [{ truncated_secret: 'whsec_...LaSw', expire_time: PAST }] },
      { id: 'w2', signing_secrets: [{ truncated_secret: 'whsec_...LaSw' }] },
    ],
    { now: NOW },
  );
  assert.deepEqual(shared.drop, []);
});

test('an ambiguous truncated secret proves nothing; unlisted ones go only on request and never the newest', () => {
  const twin = 'whsec_MfKQzzzzzzzzzzzzzzzzzzzzzzzzLaSw';
  const plan = planPrune([A, twin], [{ signing_secrets: [{ truncated_secret: 'whsec_...LaSw', expire_time: PAST }] }], {
    now: NOW,
  });
  assert.deepEqual(plan.drop, []);
  assert.equal(plan.verdicts[0]?.why, 'ambiguous');

  assert.deepEqual(planPrune([A, B], [], { now: NOW }).drop, []);
  const unlisted = planPrune([A, B], [], { now: NOW, dropUnlisted: true });
  assert.deepEqual(unlisted.keep, [A]);
  assert.deepEqual(unlisted.drop, [B]);
});

test('prependSecret puts the new secret first once; a secret is named by the fingerprint its version carries', () => {
  assert.deepEqual(prependSecret([A, B], B), [B, A]);
  assert.deepEqual(prependSecret([], A), [A]);
  assert.equal(describeSecret(B, 1), `#2 (fingerprint ${fingerprintOf(B)})`);
  assert.notEqual(fingerprintOf(A), fingerprintOf(B));
});
