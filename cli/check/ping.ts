/**
 * The whole path, end to end: a `ping` through WebhookService must come back as an event on the
 * `unrouted` topic (Gemini does not document a ping's event type, so the receiver routes it there).
 * A temporary subscription on that topic is made before the ping, so the event cannot slip past, and
 * deleted after, whether the ping arrived, timed out or the user pressed Ctrl-C.
 */
import type { Message } from '@google-cloud/pubsub';
import { UNROUTED } from '../../functions/catalog.ts';
import { planRoute } from '../../functions/topology.ts';
import type { CliContext } from '../context.ts';
import { GeminiApiError, type WebhookServiceClient } from '../gemini/client.ts';
import type { PubSubHandle } from '../pubsub.ts';
import { fieldText } from '../terminal-text.ts';
import { createTemporarySubscriptions } from '../temporary-subscriptions.ts';
import { failed, passed, skipped, type HopResult } from './hops.ts';

export async function pingHop(
  handle: PubSubHandle,
  prefix: string,
  client: WebhookServiceClient,
  webhookId: string,
  timeoutMs: number,
  context: CliContext,
): Promise<HopResult> {
  const hop = 'ping';
  const route = planRoute(prefix, UNROUTED);
  let temporary;
  try {
    temporary = await createTemporarySubscriptions(
      handle,
      [route],
      { purpose: 'check', ackDeadlineSeconds: 10, retentionSeconds: 600 },
      context.now(),
    );
  } catch (error) {
    return failed(
      hop,
      `cannot subscribe to ${route.topic}: ${(error as Error).message}`,
      'check --project and --prefix.',
    );
  }
  try {
    const [{ subscription }] = temporary.subscriptions as [(typeof temporary.subscriptions)[number]];
    let started = 0;
    const arrived = new Promise<Message>((resolve) => subscription.once('message', resolve));
    subscription.on('error', () => {});
    const stop = new AbortController();
    const stopped = new Promise<'timeout' | 'interrupted'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      const onAbort = (): void => resolve('interrupted');
      context.signal.addEventListener('abort', onAbort, { once: true });
      stop.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
      });
    });
    try {
      started = performance.now();
      await client.ping(webhookId);
    } catch (error) {
      stop.abort();
      if (error instanceof GeminiApiError)
        return failed(
          hop,
          `Gemini refused the ping: ${error.message}`,
          'see the message; `gemini-webhooks webhooks get` shows the webhook.',
        );
      throw error;
    }
    const outcome = await Promise.race([arrived, stopped]);
    stop.abort();
    if (outcome === 'interrupted') return skipped(hop, 'interrupted before the ping arrived.');
    if (outcome === 'timeout')
      return failed(
        hop,
        `Gemini accepted the ping, but no event reached ${route.topic} within ${Math.round(timeoutMs / 1000)} s.`,
        "read the receiver's log lines for the ping: `reason` says why it was refused (a 401 is a secret " +
          'the receiver does not hold).',
      );
    const ms = Math.round(performance.now() - started);
    outcome.ack();
    const id = outcome.attributes['webhook_id'];
    return passed(
      hop,
      `Gemini's ping reached ${route.topic} in ${(ms / 1000).toFixed(1)} s` +
        `${id ? ` (webhook_id ${fieldText(id)}, ${outcome.attributes['verification_scheme'] ?? 'verified'})` : ''}.`,
      ms,
    );
  } finally {
    await temporary.delete(context.err);
  }
}
