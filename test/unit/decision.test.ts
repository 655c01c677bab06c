// The receiver's pure decisions, without HTTP: what the head of a request decides, how a verified
// delivery is identified, and that a delivery is described even when its attributes cannot be.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { readEnvelope } from '../../functions/envelope.ts';
import {
  attributesOrMinimal,
  decideDelivery,
  deliveryIdentity,
  isPublication,
  published,
  screenRequest,
  type Outcome,
  type Publication,
} from '../../functions/decision.ts';
import { parseSigningSecrets } from '../../functions/verify/keys.ts';
import type { Verified } from '../../functions/verify/result.ts';
import { BODY, distinct, newSecret, NOW, NOW_SECONDS, staticHeaders } from '../support/signing.ts';

const SETTINGS = { maxBodyBytes: 1024, schemes: new Set(['static', 'jwt'] as const) };
const SECRET = newSecret();

function head(overrides: Partial<Parameters<typeof screenRequest>[0]> = {}) {
  return {
    method: 'POST',
    path: '/',
    headers: distinct(staticHeaders(SECRET, BODY)),
    declaredLength: BODY.length,
    ...overrides,
  };
}

function statusOf(result: ReturnType<typeof screenRequest>): number | string {
  return 'status' in result ? result.status : result.scheme;
}

describe('screenRequest: the request head alone', () => {
  test('method, path, declared size and header shape, in that order', () => {
    assert.equal(statusOf(screenRequest(head(), SETTINGS)), 'static');
    assert.equal(statusOf(screenRequest(head({ method: 'GET', path: '/x', declaredLength: 10_000 }), SETTINGS)), 405);
    assert.equal(statusOf(screenRequest(head({ path: '/x', declaredLength: 10_000 }), SETTINGS)), 404);
    assert.equal(statusOf(screenRequest(head({ declaredLength: 1025, headers: {} }), SETTINGS)), 413);
    assert.equal(statusOf(screenRequest(head({ headers: {} }), SETTINGS)), 400);
    assert.equal(statusOf(screenRequest(head(), { ...SETTINGS, schemes: new Set(['jwt'] as const) })), 401);
  });

  test('405 names the allowed method', () => {
    const refused = screenRequest(head({ method: 'PUT' }), SETTINGS) as Outcome;
    assert.deepEqual(refused.headers, { Allow: 'POST' });
  });
});

describe('deliveryIdentity: signed data only', () => {
  const body = Buffer.from(BODY);
  const digest = createHash('sha256').update(body).digest('hex');
  const jwt = (claims: Record<string, unknown>): Verified => ({ ok: true, scheme: 'jwt', binding: 'digest', claims });

  test('static: the signed webhook id, remembered by id', () => {
    assert.deepEqual(
      deliveryIdentity({ ok: true, scheme: 'static-v1', webhookId: 'msg_1', timestamp: NOW_SECONDS }, body),
      { id: 'msg_1', dedupeKey: 'msg_1' },
    );
  });

  test('JWT: jwt:<jti>, else the body digest; remembered with the body digest either way', () => {
    assert.deepEqual(deliveryIdentity(jwt({ jti: 'evt_1' }), body), {
      id: 'jwt:evt_1',
      dedupeKey: `jwt:evt_1 body-sha256:${digest}`,
    });
    for (const jti of [undefined, '', 'has space', 'é', 42, 'x'.repeat(253)]) {
      assert.equal(deliveryIdentity(jwt({ jti }), body).id, `jwt:body-sha256:${digest}`, JSON.stringify(jti));
    }
    assert.equal(
      deliveryIdentity(jwt({ jti: 'x'.repeat(252) }), body).id.length,
      256,
      'the longest usable jti still makes a 256-character id',
    );
  });

  test('JWT, claims binding: the digest of the event the claims carry, never of the raw bytes', () => {
    // Issue 20 item 6: one token replayed with ten whitespace-padded bodies was published under ten ids.
    const covered = 'c'.repeat(64);
    const claimsBound: Verified = { ok: true, scheme: 'jwt', binding: 'claims', claims: {}, coveredSha256: covered };
    const padded = Buffer.concat([body, Buffer.from('   ')]);
    assert.deepEqual(deliveryIdentity(claimsBound, body), deliveryIdentity(claimsBound, padded));
    assert.deepEqual(deliveryIdentity(claimsBound, padded), {
      id: `jwt:claims-sha256:${covered}`,
      dedupeKey: `jwt:claims-sha256:${covered} claims-sha256:${covered}`,
    });
    assert.equal(deliveryIdentity({ ...claimsBound, claims: { jti: 'evt_2' } }, padded).id, 'jwt:evt_2');
  });
});

describe('a verified delivery is always described', () => {
  test('attributes that cannot be built fall back to the routing attributes', () => {
    const envelope = readEnvelope(Buffer.from(BODY));
    const exploding = Object.defineProperty({ ...envelope }, 'type', {
      get() {
        throw new Error('unforeseen');
      },
    });
    const result = attributesOrMinimal({
      webhookId: 'msg_1',
      webhookTimestamp: String(NOW_SECONDS),
      route: 'unrouted',
      envelope: exploding,
      verified: { ok: true, scheme: 'static-v1', webhookId: 'msg_1', timestamp: NOW_SECONDS },
      receivedAt: NOW,
    });
    assert.equal(result.incomplete, 'unforeseen');
    assert.equal(result.attributes['attributes_incomplete'], 'true');
    assert.equal(result.attributes['webhook_id'], 'msg_1');
  });

  test('the log of a publish keeps why the attributes are incomplete, whichever step found it', () => {
    const publication = (fields: Publication['fields']): Publication => ({
      route: 'unrouted',
      data: Buffer.from(BODY),
      attributes: {},
      minimalAttributes: {},
      id: 'msg_1',
      dedupeKey: 'msg_1',
      fields,
    });
    const result = { messageId: '1', topic: 'projects/p/topics/t' };
    const incompleteOf = (outcome: Outcome): unknown => outcome.fields['attributesIncomplete'];
    // Built with the routing attributes only, then published at the first try.
    assert.equal(
      incompleteOf(published(publication({ attributesIncomplete: 'unforeseen' }), result, false, { latencyMs: 1 })),
      'unforeseen',
    );
    // Built in full, refused by Pub/Sub, published with the routing attributes only.
    assert.equal(
      incompleteOf(published(publication({}), result, false, { latencyMs: 1, attributesRefused: 'refused' })),
      'refused',
    );
    assert.equal(incompleteOf(published(publication({}), result, false, { latencyMs: 1 })), undefined);
  });

  test(
    'decideDelivery: a signed delivery becomes a publication of the exact bytes; ' + 'a forged one an answer',
    async () => {
      const headers = staticHeaders(SECRET, BODY);
      const detected = screenRequest(head({ headers: distinct(headers) }), SETTINGS);
      assert.ok(!('status' in detected));
      const keys = { static: { hmacKeys: parseSigningSecrets([SECRET], 'test'), ed25519Keys: [] } };
      const decision = await decideDelivery(detected, Buffer.from(BODY), keys, { toleranceSeconds: 300 }, NOW, {});
      assert.ok(isPublication(decision));
      assert.equal(decision.data.toString(), BODY);
      assert.equal(decision.route, 'batch.succeeded');
      assert.equal(decision.attributes['webhook_id'], headers.id);
      const forged = await decideDelivery(detected, Buffer.from(`${BODY} `), keys, { toleranceSeconds: 300 }, NOW, {});
      assert.ok(!isPublication(forged));
      assert.equal(forged.status, 401);
    },
  );
});
