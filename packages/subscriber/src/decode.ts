/**
 * `decodeGeminiEvent`: a Pub/Sub message published by the receiver -> a typed Gemini event.
 *
 * A valid envelope (data that is a JSON object, and the receiver's `webhook_id` attribute) always
 * decodes, whatever its type: unknown types become `type: 'unknown'`. Anything else throws a
 * GeminiEventDecodeError whose `reason` says what is wrong; such a message will never decode, so
 * retrying it is pointless (see createPushHandler for what happens to it).
 */
import { USER_METADATA_PREFIX, USER_METADATA_TRUNCATED } from '../../../functions/attributes.ts';
import { isRecord } from '../../../functions/records.ts';
import { EVENT_FIELDS, text } from './event-fields.ts';
import { isGeminiEventType } from './event-types.ts';
import type {
  BodyBinding,
  GeminiDelivery,
  GeminiEvent,
  PulledMessage,
  PushRequestBody,
  VerificationScheme,
} from './types.ts';

export type DecodeFailure = 'not_a_message' | 'bad_base64' | 'not_json' | 'not_an_object' | 'missing_webhook_id';

export class GeminiEventDecodeError extends Error {
  override name = 'GeminiEventDecodeError';
  readonly reason: DecodeFailure;
  /** Pub/Sub message id, when the message had one. */
  readonly messageId: string | undefined;
  constructor(reason: DecodeFailure, message: string, messageId?: string) {
    super(message);
    this.reason = reason;
    this.messageId = messageId;
  }
}

const SCHEMES = new Set<string>(['static-v1', 'static-v1a', 'jwt']);
const BINDINGS = new Set<string>(['claims', 'digest', 'signature-only']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function date(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (isRecord(value) && typeof value['toISOString'] === 'function')
    return date((value as { toISOString(): string }).toISOString());
  if (typeof value !== 'string' || value === '') return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function stringAttributes(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (isRecord(value))
    for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') result[key] = entry;
  return result;
}

interface Normalized {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string | undefined;
  publishTime: Date | undefined;
  deliveryAttempt: number | undefined;
  subscription: string | undefined;
}

function isPushBody(input: Record<string, unknown>): input is Record<string, unknown> & PushRequestBody {
  return isRecord(input['message']) && !('data' in input);
}

function normalize(input: unknown): Normalized {
  if (!isRecord(input))
    throw new GeminiEventDecodeError(
      'not_a_message',
      'Expected a Pub/Sub message or a push request body, got ' + (input === null ? 'null' : typeof input) + '.',
    );
  if (isPushBody(input)) {
    const message = input.message as Record<string, unknown>;
    const messageId = text(message['messageId']) ?? text(message['message_id']);
    const encoded = message['data'] ?? '';
    if (typeof encoded !== 'string' || !BASE64.test(encoded.replace(/\s+/g, ''))) {
      throw new GeminiEventDecodeError('bad_base64', 'The push message `data` is not base64.', messageId);
    }
    const attempt = input['deliveryAttempt'];
    return {
      data: Buffer.from(encoded, 'base64'),
      attributes: stringAttributes(message['attributes']),
      messageId,
      publishTime: date(message['publishTime'] ?? message['publish_time']),
      deliveryAttempt: typeof attempt === 'number' ? attempt : undefined,
      subscription: text(input['subscription']),
    };
  }
  const pulled = input as unknown as PulledMessage;
  const raw = pulled.data;
  if (!(raw instanceof Uint8Array) && typeof raw !== 'string') {
    throw new GeminiEventDecodeError(
      'not_a_message',
      'Expected a Pub/Sub message with `data` (Buffer) and `attributes`, or a push request body `{message: {...}}`.',
    );
  }
  const messageId = text(pulled.id) ?? text(input['messageId']);
  return {
    data: typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
    attributes: stringAttributes(pulled.attributes),
    messageId,
    publishTime: date(pulled.publishTime),
    deliveryAttempt:
      typeof pulled.deliveryAttempt === 'number' && pulled.deliveryAttempt > 0 ? pulled.deliveryAttempt : undefined,
    subscription: undefined,
  };
}

function delivery(message: Normalized, webhookId: string): GeminiDelivery {
  const a = message.attributes;
  const userMetadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(a)) {
    if (key.startsWith(USER_METADATA_PREFIX) && key !== USER_METADATA_TRUNCATED)
      userMetadata[key.slice(USER_METADATA_PREFIX.length)] = value;
  }
  const timestamp = a['webhook_timestamp'];
  const replays = Number(a['replay_count']);
  return {
    webhookId,
    webhookTimestamp:
      timestamp !== undefined && /^\d+$/.test(timestamp) ? new Date(Number(timestamp) * 1000) : undefined,
    scheme: SCHEMES.has(a['verification_scheme'] ?? '') ? (a['verification_scheme'] as VerificationScheme) : undefined,
    binding: BINDINGS.has(a['body_binding'] ?? '') ? (a['body_binding'] as BodyBinding) : undefined,
    route: a['event_route'],
    receivedAt: date(a['received_at']),
    userMetadata,
    userMetadataTruncated: a[USER_METADATA_TRUNCATED] === 'true',
    replayCount: Number.isSafeInteger(replays) && replays > 0 ? replays : 0,
    messageId: message.messageId,
    publishTime: message.publishTime,
    deliveryAttempt: message.deliveryAttempt,
    subscription: message.subscription,
    attributes: a,
  };
}

/**
 * Decodes a pull `Message` or a push request body (`{message: {data, attributes, messageId,
 * publishTime}, subscription}`) into a GeminiEvent. Throws GeminiEventDecodeError only for
 * messages that are not a receiver envelope.
 */
// `input` is typed `unknown` because anything can arrive on a subscription; the shapes it decodes
// are PulledMessage and PushRequestBody, and anything else throws GeminiEventDecodeError.
export function decodeGeminiEvent(input: unknown): GeminiEvent {
  const message = normalize(input);
  const webhookId = message.attributes['webhook_id'] ?? message.attributes['ce-id'];
  if (webhookId === undefined || webhookId === '') {
    throw new GeminiEventDecodeError(
      'missing_webhook_id',
      'The message has no `webhook_id` attribute: it was not published by the gemini-webhooks receiver.',
      message.messageId,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.data.toString('utf8'));
  } catch {
    throw new GeminiEventDecodeError(
      'not_json',
      `The message data (${message.data.length} bytes) is not JSON; it is kept byte for byte in the message.`,
      message.messageId,
    );
  }
  if (!isRecord(parsed))
    throw new GeminiEventDecodeError(
      'not_an_object',
      'The message data is JSON but not an object envelope.',
      message.messageId,
    );

  const data = isRecord(parsed['data']) ? parsed['data'] : {};
  const eventType = text(parsed['type']) ?? message.attributes['event_type'];
  const base = {
    eventType,
    version: text(parsed['version']),
    timestamp: text(parsed['timestamp']),
    id: text(data['id']),
    data,
    body: parsed,
    delivery: delivery(message, webhookId),
  };
  if (isGeminiEventType(eventType)) {
    return { ...base, type: eventType, ...EVENT_FIELDS[eventType](data) } as GeminiEvent;
  }
  return { ...base, type: 'unknown' };
}
