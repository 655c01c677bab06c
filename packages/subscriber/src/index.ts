/**
 * The subscriber kit: typed Gemini events from the Pub/Sub messages the receiver publishes.
 *
 *   import { decodeGeminiEvent, createPushHandler } from 'gemini-webhooks-pubsub/subscriber';
 */
export { decodeGeminiEvent, GeminiEventDecodeError, type DecodeFailure } from './decode.ts';
export {
  createPushHandler,
  GOOGLE_ISSUERS,
  GOOGLE_JWKS_URL,
  type HandlerOutcome,
  type PushHandlerContext,
  type PushHandlerDevelopmentOptions,
  type PushHandlerOptions,
} from './push-handler.ts';
export { GEMINI_EVENT_TYPES, isGeminiEventType } from './event-types.ts';
export { generateListenSecret, LISTEN_SECRET_ENV } from './listen-token.ts';
export type * from './types.ts';
