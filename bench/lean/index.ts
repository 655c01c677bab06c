/**
 * The yardstick (l): the same work as the receiver and nothing else, written as lean as the
 * libraries allow. A delivery is verified (Standard Webhooks `v1`: HMAC-SHA256 with node:crypto
 * over `<webhook-id>.<webhook-timestamp>.<raw body>`, the timestamp within 5 minutes, a
 * constant-time compare), published once with `@google-cloud/pubsub` on a topic tuned as the
 * receiver tunes its own (`maxMilliseconds: 0`, a deadline on the call), and answered 200 once
 * Pub/Sub has accepted it.
 *
 * What it leaves out is what the receiver adds for safety: body and in-flight limits, duplicate
 * memory, routing and attributes, JWT deliveries, structured logs, Secret Manager, its own body
 * reader. The difference between the two is the price of those. Not for production.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as functions from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';

const key = Buffer.from((process.env['WEBHOOK_SIGNING_SECRETS'] ?? '').replace(/^whsec_/, ''), 'base64');
const topic = new PubSub().topic(process.env['TOPIC_NAME'] ?? 'bench-lean', {
  batching: { maxMessages: 100, maxMilliseconds: 0 },
  gaxOpts: { timeout: 10_000 },
});

function verified(headers: Record<string, string | string[] | undefined>, body: Buffer): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signature.split(' ').some((entry) => {
    if (!entry.startsWith('v1,')) return false;
    const given = Buffer.from(entry.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

functions.http('receiveWebhook', async (req, res) => {
  const body = req.rawBody;
  if (body === undefined || !verified(req.headers, body)) {
    res.status(401).end();
    return;
  }
  try {
    await topic.publishMessage({ data: body });
    res.status(200).end();
  } catch {
    res.status(503).end();
  }
});
