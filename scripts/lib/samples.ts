/**
 * Realistic sample envelopes for every catalog type, shaped like the Gemini guide's examples
 * (thin events: pointers to results, not results). One entry per catalog type: a type added to
 * functions/catalog.ts without a sample here does not compile, and test/unit/event-types.test.ts says so.
 */
import { EVENT_TYPES, type EventType } from '../../functions/catalog.ts';

const FAILED = { error_code: 'INTERNAL', error_message: 'The job failed; see the job for details.' };
const CANCELLED = { error_code: 'CANCELLED', error_message: 'The job was cancelled.' };

/** What each type's `data` holds besides `id`. */
export const SAMPLE_DATA = {
  'batch.succeeded': { output_file_uri: 'gs://my-bucket/batches/results.jsonl' },
  'batch.failed': FAILED,
  'batch.expired': { error_code: 'DEADLINE_EXCEEDED', error_message: 'The batch did not finish within 48 hours.' },
  'batch.cancelled': CANCELLED,
  'interaction.requires_action': {},
  'interaction.completed': {},
  'interaction.failed': FAILED,
  'interaction.cancelled': CANCELLED,
  'video.generated': { output_file_uri: 'gs://my-bucket/videos/video.mp4', file_name: 'files/abc123' },
} as const satisfies Record<EventType, Readonly<Record<string, string>>>;

const COLLECTIONS: Record<string, string> = { batch: 'batches', interaction: 'interactions', video: 'operations' };

/** An envelope of `type`: a catalog type with its sample data, or any other type with just an id. */
export function sampleEvent(
  type: string,
  options: { id?: string; userMetadata?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const [resource = ''] = type.split('.');
  const collection = COLLECTIONS[resource] ?? 'operations';
  const id = options.id ?? `${collection}/${Math.random().toString(36).slice(2, 12)}`;
  const sample: Readonly<Record<string, string>> = (SAMPLE_DATA as Record<string, Record<string, string>>)[type] ?? {};
  const data: Record<string, unknown> = { id, ...sample };
  if (options.userMetadata) data['user_metadata'] = options.userMetadata;
  return { type, version: 'v1', timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), data };
}

export { EVENT_TYPES };
