/**
 * What each Gemini event type carries beyond the envelope, read from its `data`: one entry per type
 * the catalog routes (subscriber/event-types.ts), typed so that a type without an entry does not
 * compile. The event union in types.ts is built from these entries.
 *
 * Adding an event type: its line in functions/catalog.ts, `npm run docs` (which regenerates
 * event-types.ts), then its entry here and its sample in scripts/lib/samples.ts;
 * test/unit/event-types.test.ts names whichever is missing.
 */
import type { GeminiEventType } from './event-types.ts';
import type { BatchOutput, JobFailure, NoFields, VideoOutput } from './types.ts';

type Data = Readonly<Record<string, unknown>>;

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const none = (): NoFields => ({});
const failure = (data: Data): JobFailure => ({
  errorCode: text(data['error_code']),
  errorMessage: text(data['error_message']),
});

export const EVENT_FIELDS = {
  'batch.succeeded': (data: Data): BatchOutput => ({ outputFileUri: text(data['output_file_uri']) }),
  'batch.failed': failure,
  'batch.expired': failure,
  'batch.cancelled': failure,
  'interaction.requires_action': none,
  'interaction.completed': none,
  'interaction.failed': failure,
  'interaction.cancelled': failure,
  // The cookbook sample reads `video_uri`; the guide names `output_file_uri`.
  'video.generated': (data: Data): VideoOutput => ({
    outputFileUri: text(data['output_file_uri']) ?? text(data['video_uri']),
    fileName: text(data['file_name']),
  }),
} satisfies { [T in GeminiEventType]: (data: Data) => object };

/** The fields of an event of type `T`. */
export type EventFields<T extends GeminiEventType> = ReturnType<(typeof EVENT_FIELDS)[T]>;
