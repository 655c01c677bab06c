/**
 * The Gemini side of a deployment, judged from what WebhookService answers: the webhook that points at
 * the receiver, its state and events, and whether the receiver holds a secret it signs with. Pure.
 */
import { SUBSCRIBABLE_EVENT_TYPES } from '../../functions/catalog.ts';
import type { Webhook } from '../gemini/types.ts';
import { describeSecret, matchesTruncated } from '../signing-secrets.ts';
import { failed, passed, type HopResult } from './hops.ts';

function sameUrl(a: string, b: string): boolean {
  const normal = (url: string): string => {
    try {
      return new URL(url).href.replace(/\/+$/, '');
    } catch {
      return url.replace(/\/+$/, '');
    }
  };
  return normal(a) === normal(b);
}

/** The webhooks whose `uri` is the receiver's URL. */
export function webhooksFor(webhooks: readonly Webhook[], receiverUrl: string): Webhook[] {
  return webhooks.filter((webhook) => webhook.uri !== undefined && sameUrl(webhook.uri, receiverUrl));
}

/**
 * The events the webhook must be subscribed to: those a consumer of the stack receives (subscribable
 * ones; the guide-only `*.cancelled` types cannot be asked for), or, with no consumer, any one.
 */
export function requiredEvents(consumerRoutes: Readonly<Set<string>>): string[] {
  return SUBSCRIBABLE_EVENT_TYPES.filter((type) => consumerRoutes.has(type));
}

export function judgeWebhook(
  candidates: readonly Webhook[],
  receiverUrl: string,
  required: readonly string[],
): HopResult {
  const hop = 'webhook';
  if (candidates.length === 0)
    return failed(
      hop,
      `no Gemini webhook delivers to ${receiverUrl}, so Gemini sends this deployment nothing.`,
      "`gemini-webhooks webhooks create` (registers the stack's receiverUrl and stores its secret), then `pulumi up`.",
    );
  const webhook = candidates[0]!;
  const id = webhook.id ?? '?';
  if (webhook.state !== 'enabled')
    return failed(
      hop,
      `webhook ${id} is ${webhook.state ?? 'in an unknown state'}: Gemini sends nothing to it.`,
      webhook.state === 'disabled_due_to_failed_deliveries'
        ? `find why the receiver failed (its logs), then \`gemini-webhooks webhooks enable ${id}\`.`
        : `\`gemini-webhooks webhooks enable ${id}\`.`,
    );
  const subscribed = webhook.subscribed_events ?? [];
  const missing = required.filter((type) => !subscribed.includes(type));
  if (missing.length > 0 || subscribed.length === 0)
    return failed(
      hop,
      `webhook ${id} is not subscribed to ${missing.join(', ') || 'any event'}, which ` +
        (missing.length > 0 ? "the stack's consumers receive." : 'leaves it silent.'),
      `\`gemini-webhooks webhooks update ${id} --events ` +
        `${[...new Set([...subscribed, ...missing])].join(',') || SUBSCRIBABLE_EVENT_TYPES.join(',')}\`.`,
    );
  const more = candidates.length > 1 ? ` (${candidates.length - 1} more point here too)` : '';
  return passed(hop, `${id} is enabled and subscribed to ${subscribed.join(', ')}${more}.`);
}

/**
 * Whether the receiver holds a secret the webhook signs with. Gemini signs with its current secret
 * (the one without `expire_time`); during a rotation's grace the previous one is listed with the time it
 * stops. A current secret that nothing stored matches means every delivery is refused with 401, at once
 * or when the grace ends.
 */
export function judgeSecrets(webhook: Webhook, stored: readonly string[], now: Date, storeFix: string): HopResult {
  const hop = 'signing secrets';
  const id = webhook.id ?? '?';
  const listed = (webhook.signing_secrets ?? []).filter((info) => typeof info.truncated_secret === 'string');
  const valid = listed.filter((info) => info.expire_time === undefined || Date.parse(info.expire_time) > now.getTime());
  const current = valid.find((info) => info.expire_time === undefined) ?? valid[0];
  const holderOf = (truncated: string): number => stored.findIndex((secret) => matchesTruncated(secret, truncated));
  const rotate =
    `\`gemini-webhooks webhooks rotate ${id}\` (Gemini shows a secret only once; this issues ` +
    `a new one and stores it), then ${storeFix}.`;
  if (current === undefined) return failed(hop, `webhook ${id} lists no valid signing secret.`, rotate);
  const index = holderOf(current.truncated_secret!);
  if (index >= 0)
    return passed(
      hop,
      `the webhook's current secret ${current.truncated_secret} is stored as ` +
        `${describeSecret(stored[index]!, index)} of ${stored.length}.`,
    );
  const graced = valid.find((info) => info !== current && holderOf(info.truncated_secret!) >= 0);
  if (graced !== undefined)
    return failed(
      hop,
      `the webhook's current secret ${current.truncated_secret} is not stored; the receiver verifies only with ` +
        `${graced.truncated_secret}, which Gemini stops using at ${graced.expire_time}.`,
      rotate,
    );
  return failed(
    hop,
    `none of the webhook's secrets (${valid.map((info) => info.truncated_secret).join(', ')}) is among the ` +
      `${stored.length} stored: the receiver refuses every delivery with 401.`,
    rotate,
  );
}
