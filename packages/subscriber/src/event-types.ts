// Generated from functions/catalog.ts by `npm run docs`: edit the catalog, not this file.

/** Every event type the receiver routes to a topic of its own; any other type arrives as `unknown`. */
export const GEMINI_EVENT_TYPES = [
  'batch.succeeded',
  'batch.failed',
  'batch.expired',
  'interaction.requires_action',
  'interaction.completed',
  'interaction.failed',
  'video.generated',
  'batch.cancelled',
  'interaction.cancelled',
] as const;

export type GeminiEventType = (typeof GEMINI_EVENT_TYPES)[number];

const KNOWN = new Set<unknown>(GEMINI_EVENT_TYPES);

export function isGeminiEventType(value: unknown): value is GeminiEventType {
  return KNOWN.has(value);
}
