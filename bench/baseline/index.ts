/**
 * The baseline (c): a receiver of the kind people write from the docs and samples, kept here only
 * to be measured against. It follows them on purpose, including their costs:
 * - the body as parsed by Express (`req.body`), re-serialised for verification (the cookbook's
 *   Cloud Run sample does this; it only works while the sender's JSON is compact);
 * - the `standardwebhooks` package (pure-JavaScript HMAC) with one secret;
 * - `@google-cloud/pubsub` with default settings: one client at module scope, `topic(name)` in the
 *   handler as the publishing samples do, default batching (up to 10 ms wait per publish);
 * - one log line per delivery.
 * Not for production: see functions/ for the real receiver.
 */
import * as functions from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { Webhook } from 'standardwebhooks';

const pubsub = new PubSub();
const webhook = new Webhook(process.env['WEBHOOK_SECRET'] ?? '');
const topicName = process.env['TOPIC_NAME'] ?? 'gemini-webhooks';

functions.http('receiveWebhook', async (req, res) => {
  let event: { type?: string };
  try {
    event = webhook.verify(JSON.stringify(req.body), req.headers as Record<string, string>) as { type?: string };
  } catch {
    res.status(401).send('Invalid signature');
    return;
  }
  try {
    const messageId = await pubsub
      .topic(topicName)
      .publishMessage({ json: event, attributes: { type: String(event.type) } });
    console.log(`Published message ${messageId} for ${event.type}`);
    res.status(200).send('OK');
  } catch (error) {
    console.error('Publish failed', error);
    res.status(500).send('Error');
  }
});
