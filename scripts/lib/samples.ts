/**
 * Realistic sample envelopes for every catalog type, shaped like the Gemini guide's examples
 * (thin events: pointers to results, not results).
 */
import { EVENT_TYPES, type EventType } from '../../functions/catalog.ts';

export function sampleEvent(
  type: string,
  options: { id?: string; userMetadata?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const [resource] = type.split('.');
  const collection = resource === 'video' ? 'operations' : resource === 'batch' ? 'batches' : 'interactions';
  const id = options.id ?? `${collection}/${Math.random().toString(36).slice(2, 12)}`;
  const data: Record<string, unknown> = { id };
  switch (type as EventType) {
    case 'batch.succeeded':
      data['output_file_uri'] = 'gs://my-bucket/batches/results.jsonl';
      break;
    case 'batch.failed':
    case 'interaction.failed':
      data['error_code'] = 'INTERNAL';
      data['error_message'] = 'The job failed; see the job for details.';
      break;
    case 'batch.expired':
      data['error_code'] = 'DEADLINE_EXCEEDED';
      data['error_message'] = 'The batch did not finish within 48 hours.';
      break;
    case 'video.generated':
      data['output_file_uri'] = 'gs://my-bucket/videos/video.mp4';
      data['file_name'] = 'files/abc123';
      break;
    default:
      break;
  }
  if (options.userMetadata) data['user_metadata'] = options.userMetadata;
  return { type, version: 'v1', timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), data };
}

export { EVENT_TYPES };
