/**
 * Reading the Gemini envelope, after verification only. The body is published byte for byte no
 * matter what; this module just pulls out what routing and attributes need, and never throws.
 */
import { isRecord } from './records.ts';

export interface Envelope {
  /** The top-level `type`, when it is a string. */
  type: string | undefined;
  version: string | undefined;
  timestamp: string | undefined;
  /** `data.id`: the batch, interaction or operation the event is about. */
  subject: string | undefined;
  /** Where a dynamic webhook's `user_metadata` lands is not published: look at the top level, then in `data`. */
  userMetadata: Readonly<Record<string, unknown>> | undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readEnvelope(body: Buffer): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    return { type: undefined, version: undefined, timestamp: undefined, subject: undefined, userMetadata: undefined };
  }
  const data = isRecord(parsed['data']) ? parsed['data'] : undefined;
  const metadata = parsed['user_metadata'] ?? data?.['user_metadata'];
  return {
    type: text(parsed['type']),
    version: text(parsed['version']),
    timestamp: text(parsed['timestamp']),
    subject: text(data?.['id']),
    userMetadata: isRecord(metadata) ? metadata : undefined,
  };
}
