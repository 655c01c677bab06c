/**
 * Pub/Sub attributes for a published delivery: routing and filtering facts, the CloudEvents
 * Pub/Sub binding (`ce-*`), and `user_metadata` flattened for native subscription filters.
 * Pub/Sub allows at most 100 attributes, 256-byte keys and 1024-byte values: what does not fit is
 * cut or dropped, flagged with `user_metadata_truncated`, and the message is still published.
 */
import type { RouteKey } from './catalog.ts';
import { isRecord, type Envelope } from './envelope.ts';
import type { Verified } from './verify/result.ts';

export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
export const MAX_ATTRIBUTE_VALUE_BYTES = 1024;
export const USER_METADATA_PREFIX = 'user_metadata_';
export const USER_METADATA_TRUNCATED = 'user_metadata_truncated';
export const CLOUDEVENTS_SOURCE = 'https://generativelanguage.googleapis.com';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
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

function metadataValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
}

function userMetadata(input: AttributeInput): Readonly<Record<string, unknown>> | undefined {
  if (input.envelope.userMetadata) return input.envelope.userMetadata;
  // Dynamic webhooks may carry it in the (verified) token instead of the body.
  const claimed = input.verified.scheme === 'jwt' ? input.verified.claims['user_metadata'] : undefined;
  return isRecord(claimed) ? claimed : undefined;
}

export function buildAttributes(input: AttributeInput): Record<string, string> {
  const attributes: Record<string, string> = {};
  let truncated = false;
  const set = (key: string, value: string | undefined): void => {
    if (value === undefined) return;
    const cut = truncateUtf8(value, MAX_ATTRIBUTE_VALUE_BYTES);
    attributes[key] = cut;
  };
  const { envelope, verified } = input;

  set('webhook_id', input.webhookId);
  set('webhook_timestamp', input.webhookTimestamp);
  set('event_type', envelope.type);
  set('event_route', input.route);
  set('event_version', envelope.version);
  set('verification_scheme', verified.scheme);
  if (verified.scheme === 'jwt') set('body_binding', verified.binding);
  set('received_at', input.receivedAt.toISOString());
  set('ce-specversion', '1.0');
  set('ce-id', input.webhookId);
  set('ce-type', envelope.type === undefined || envelope.type === '' ? 'unknown' : envelope.type);
  set('ce-source', CLOUDEVENTS_SOURCE);
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
      // A user key `truncated` would collide with (and could forge) the flag: it is dropped, and flagged.
      if (used >= room || key === '' || CONTROL.test(key) || name === USER_METADATA_TRUNCATED || Buffer.byteLength(name) > MAX_ATTRIBUTE_KEY_BYTES) {
        truncated = true;
        continue;
      }
      const value = metadataValue(metadata[key]);
      if (Buffer.byteLength(value) > MAX_ATTRIBUTE_VALUE_BYTES) truncated = true;
      set(name, value);
      used++;
    }
  }
  if (truncated) attributes[USER_METADATA_TRUNCATED] = 'true';
  return attributes;
}
