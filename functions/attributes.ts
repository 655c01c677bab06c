/**
 * Pub/Sub attributes for a published delivery: routing and filtering facts, the CloudEvents
 * Pub/Sub binding (`ce-*`), and `user_metadata` flattened for native subscription filters.
 * Within Pub/Sub's limits (pubsub-limits.ts): what does not fit is cut or dropped, flagged with
 * `user_metadata_truncated`, and the message is still published. Every key and value is
 * well-formed UTF-8: a lone UTF-16 surrogate from the body (`"\ud800"` is valid JSON) becomes
 * U+FFFD in a value, and a key holding one is dropped.
 */
import type { RouteKey } from './catalog.ts';
import type { Envelope } from './envelope.ts';
import { isRecord } from './records.ts';
import { nestsDeeperThan } from './json-limits.ts';
import { containsNumber, MAX_EXACT_PARSE_DEPTH, parseKeepingNumbers } from './json-numbers.ts';
import { MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES } from './pubsub-limits.ts';
import { RECEIVER_SECRET_KEY } from './verify/receiver-secret.ts';
import type { Verified } from './verify/result.ts';

export const USER_METADATA_PREFIX = 'user_metadata_';
export const USER_METADATA_TRUNCATED = 'user_metadata_truncated';
export const CLOUDEVENTS_SOURCE = 'https://generativelanguage.googleapis.com';
/** Set on a message published with only the routing attributes (see minimalAttributes). */
const ATTRIBUTES_INCOMPLETE = 'attributes_incomplete';
/**
 * `user_metadata` values nested deeper than this are dropped (and flagged) rather than serialised:
 * JSON.stringify recurses, and a few thousand levels overflow the stack.
 */
export const MAX_METADATA_DEPTH = 32;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  const bytes = Buffer.from(value);
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export interface AttributeInput {
  webhookId: string;
  /** Unix seconds as sent in `webhook-timestamp`, when there was one. */
  webhookTimestamp: string | undefined;
  route: RouteKey;
  envelope: Envelope;
  verified: Verified;
  receivedAt: Date;
}

function cloudEventTime(input: AttributeInput): string {
  const { timestamp } = input.envelope;
  if (timestamp !== undefined && RFC3339.test(timestamp)) return timestamp;
  // An unusable timestamp must not make toISOString() throw and turn a verified delivery into a 500.
  const signed = input.webhookTimestamp === undefined ? undefined : new Date(Number(input.webhookTimestamp) * 1000);
  if (signed !== undefined && !Number.isNaN(signed.getTime())) return signed.toISOString();
  return input.receivedAt.toISOString();
}

/**
 * A value as an attribute string, or undefined when it is too deeply nested to serialise safely.
 * Numbers arrive as RawJson (json-numbers.ts) and are written as sent: `1.0` stays `1.0`.
 */
function metadataValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (nestsDeeperThan(value, MAX_METADATA_DEPTH)) return undefined;
  return JSON.stringify(value) ?? 'null';
}

/**
 * The `user_metadata` to flatten. A JWT delivery whose token carries `user_metadata` takes it from
 * the (signed) claims, never from the body: with a signature-only token the body is the sender's
 * word alone. Otherwise the body's, at the top level or inside `data`.
 */
function userMetadata(input: AttributeInput): Readonly<Record<string, unknown>> | undefined {
  const { verified } = input;
  if (verified.scheme === 'jwt' && Object.hasOwn(verified.claims, 'user_metadata')) {
    const claimed = claimedMetadata(verified.claims, verified.payload);
    return isRecord(claimed) ? claimed : undefined;
  }
  return input.envelope.userMetadata;
}

/** The `user_metadata` claim, its numbers as written in the signed payload when there is one. */
function claimedMetadata(claims: Readonly<Record<string, unknown>>, payload: string | undefined): unknown {
  const claimed = claims['user_metadata'];
  if (payload === undefined || !containsNumber(claimed) || nestsDeeperThan(claims, MAX_EXACT_PARSE_DEPTH))
    return claimed;
  return (parseKeepingNumbers(payload) as Record<string, unknown>)['user_metadata'];
}

/** Attribute values are cut to Pub/Sub's limit, as well-formed UTF-8. */
function attributeValue(value: string): string {
  return truncateUtf8(value.toWellFormed(), MAX_ATTRIBUTE_VALUE_BYTES);
}

type RoutingInput = Pick<AttributeInput, 'webhookId' | 'route' | 'verified' | 'receivedAt'>;

/** The attributes routing needs, from values that are well-formed by construction. */
function routingAttributes(input: RoutingInput): Record<string, string> {
  const attributes: Record<string, string> = {
    webhook_id: attributeValue(input.webhookId),
    event_route: input.route,
    verification_scheme: input.verified.scheme,
    received_at: input.receivedAt.toISOString(),
    'ce-specversion': '1.0',
    'ce-id': attributeValue(input.webhookId),
    'ce-source': CLOUDEVENTS_SOURCE,
  };
  if (input.verified.scheme === 'jwt') attributes['body_binding'] = input.verified.binding;
  return attributes;
}

/**
 * The routing attributes and nothing else: the fallback when the full set cannot be built or is
 * refused, so a verified delivery is still published.
 */
export function minimalAttributes(input: RoutingInput): Record<string, string> {
  return { ...routingAttributes(input), [ATTRIBUTES_INCOMPLETE]: 'true' };
}

export function buildAttributes(input: AttributeInput): Record<string, string> {
  const attributes = routingAttributes(input);
  let truncated = false;
  const set = (key: string, value: string | undefined): void => {
    if (value === undefined) return;
    attributes[key] = attributeValue(value);
  };
  const { envelope } = input;

  set('webhook_timestamp', input.webhookTimestamp);
  set('event_type', envelope.type);
  set('event_version', envelope.version);
  set('ce-type', envelope.type === undefined || envelope.type === '' ? 'unknown' : envelope.type);
  set('ce-time', cloudEventTime(input));
  set('ce-subject', envelope.subject);
  set('content-type', 'application/json');

  const metadata = userMetadata(input);
  if (metadata) {
    // One slot stays free for the truncation flag.
    const room = MAX_ATTRIBUTES - Object.keys(attributes).length - 1;
    const keys = Object.keys(metadata).sort();
    let used = 0;
    for (const key of keys) {
      const name = USER_METADATA_PREFIX + key;
      // The receiver secret is a credential, never an attribute (not flagged: nothing was lost).
      if (key === RECEIVER_SECRET_KEY) continue;
      // A user key `truncated` would collide with (and could forge) the flag: it is dropped, and
      // flagged. A key that is not well-formed UTF-16 cannot be a Pub/Sub key: dropped, flagged.
      if (
        used >= room ||
        key === '' ||
        CONTROL.test(key) ||
        !key.isWellFormed() ||
        name === USER_METADATA_TRUNCATED ||
        Buffer.byteLength(name) > MAX_ATTRIBUTE_KEY_BYTES
      ) {
        truncated = true;
        continue;
      }
      const value = metadataValue(metadata[key]);
      if (value === undefined || Buffer.byteLength(value) > MAX_ATTRIBUTE_VALUE_BYTES) truncated = true;
      if (value === undefined) continue;
      set(name, value);
      used++;
    }
  }
  if (truncated) attributes[USER_METADATA_TRUNCATED] = 'true';
  return attributes;
}
