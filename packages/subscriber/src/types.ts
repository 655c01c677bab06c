/**
 * What a consumer gets for each Pub/Sub message the receiver published: the Gemini event as a
 * discriminated union on `type`, plus how it was delivered. Field names are camelCase views of the
 * thin Gemini envelope (`data.output_file_uri` -> `outputFileUri`); the parsed body stays available
 * as `body` for anything this kit does not name.
 */

import type { EventFields } from './event-fields.ts';
import type { GeminiEventType } from './event-types.ts';

export type { GeminiEventType } from './event-types.ts';

/** How the receiver verified the delivery (attribute `verification_scheme`). */
export type VerificationScheme = 'static-v1' | 'static-v1a' | 'jwt';
/** How strongly a JWT delivery's body was bound to its token (attribute `body_binding`). */
export type BodyBinding = 'claims' | 'digest' | 'signature-only';

export interface GeminiDelivery {
  /** The `webhook-id` Gemini sent: identical for every retry and replay of one event. Dedupe on it. */
  webhookId: string;
  /** `webhook-timestamp` as signed, when there was one. */
  webhookTimestamp: Date | undefined;
  scheme: VerificationScheme | undefined;
  binding: BodyBinding | undefined;
  /** Catalog type the receiver routed on, or `unrouted`. */
  route: string | undefined;
  receivedAt: Date | undefined;
  /** `user_metadata` of a dynamic webhook, from the `user_metadata_<key>` attributes (non-strings as JSON). */
  userMetadata: Readonly<Record<string, string>>;
  /** Some metadata did not fit Pub/Sub's attribute limits; the full value is in `body`. */
  userMetadataTruncated: boolean;
  /** How many times `gemini-webhooks dlq replay` has republished this event (0 = original). */
  replayCount: number;
  messageId: string | undefined;
  publishTime: Date | undefined;
  /** Pub/Sub's delivery attempt, on subscriptions with a dead-letter policy. */
  deliveryAttempt: number | undefined;
  /** The push subscription, for push deliveries. */
  subscription: string | undefined;
  attributes: Readonly<Record<string, string>>;
}

export interface EventBase {
  /** The `type` string exactly as Gemini sent it (also for unknown types). */
  eventType: string | undefined;
  version: string | undefined;
  /** The envelope's `timestamp` (RFC 3339), as sent. */
  timestamp: string | undefined;
  /** `data.id`: the batch, interaction or operation the event is about. */
  id: string | undefined;
  data: Readonly<Record<string, unknown>>;
  /** The whole parsed envelope. */
  body: Readonly<Record<string, unknown>>;
  delivery: GeminiDelivery;
}

/** What a succeeded batch adds: where its results are. */
export interface BatchOutput {
  /** Where the results are, e.g. `gs://bucket/results.jsonl`. */
  outputFileUri: string | undefined;
}

/** What a job that ended without a result adds (failed, expired, cancelled). */
export interface JobFailure {
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

/** What a generated video adds. */
export interface VideoOutput {
  outputFileUri: string | undefined;
  /** The Files API name, e.g. `files/abc123`. */
  fileName: string | undefined;
}

/** An event type that adds nothing to the envelope. */
export type NoFields = Record<never, never>;

/** The event of one catalog type (or a union of types): the envelope, its `type`, and what the type adds. */
export type GeminiEventOf<T extends GeminiEventType> = T extends GeminiEventType
  ? EventBase & { type: T } & EventFields<T>
  : never;

export type BatchSucceededEvent = GeminiEventOf<'batch.succeeded'>;
export type BatchEndedEvent = GeminiEventOf<'batch.failed' | 'batch.expired' | 'batch.cancelled'>;
export type InteractionEvent = GeminiEventOf<'interaction.requires_action' | 'interaction.completed'>;
export type InteractionEndedEvent = GeminiEventOf<'interaction.failed' | 'interaction.cancelled'>;
export type VideoGeneratedEvent = GeminiEventOf<'video.generated'>;

/** A type this kit does not know (yet), or none at all: look at `eventType` and `body`. */
export interface UnknownGeminiEvent extends EventBase {
  type: 'unknown';
}

/** Every event: one variant per catalog type (subscriber/event-types.ts), and `unknown`. */
export type GeminiEvent = GeminiEventOf<GeminiEventType> | UnknownGeminiEvent;

/** A message from a pull subscription (`Message` of @google-cloud/pubsub fits). */
export interface PulledMessage {
  data: Buffer | Uint8Array | string;
  attributes?: Readonly<Record<string, string>> | null;
  id?: string;
  publishTime?: Date | { toISOString(): string } | string;
  deliveryAttempt?: number;
}

/** The JSON body Pub/Sub POSTs to a push endpoint (wrapped payload). */
export interface PushRequestBody {
  message: {
    /** Base64 of the message data. */
    data?: string;
    attributes?: Readonly<Record<string, string>>;
    messageId?: string;
    message_id?: string;
    publishTime?: string;
    publish_time?: string;
  };
  subscription?: string;
  deliveryAttempt?: number;
}
