/**
 * Reading the Gemini envelope, after verification only. The body is published byte for byte no
 * matter what; this module just pulls out what routing and attributes need, and never throws.
 */
import { nestsDeeperThan } from './json-limits.ts';
import { containsNumber, MAX_EXACT_PARSE_DEPTH, parseKeepingNumbers } from './json-numbers.ts';
import { isRecord } from './records.ts';

export interface Envelope {
  /** The top-level `type`, when it is a string. */
  type: string | undefined;
  version: string | undefined;
  timestamp: string | undefined;
  /** `data.id`: the batch, interaction or operation the event is about. */
  subject: string | undefined;
  /**
   * Where a dynamic webhook's `user_metadata` lands is not published: look at the top level, then
   * in `data`. Its numbers are kept as written (json-numbers.ts), so `...789` and `1.0` reach the
   * attributes as sent.
   */
  userMetadata: Readonly<Record<string, unknown>> | undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function userMetadataIn(parsed: Record<string, unknown>): unknown {
  const data = isRecord(parsed['data']) ? parsed['data'] : undefined;
  return parsed['user_metadata'] ?? data?.['user_metadata'];
}

/**
 * `user_metadata` with its numbers as written. The body is parsed a second time only when the
 * metadata holds a number, so the common delivery pays nothing; a body too deep to walk safely
 * keeps JSON.parse's values.
 */
function exactUserMetadata(json: string, parsed: Record<string, unknown>): unknown {
  const metadata = userMetadataIn(parsed);
  if (!containsNumber(metadata) || nestsDeeperThan(parsed, MAX_EXACT_PARSE_DEPTH)) return metadata;
  return userMetadataIn(parseKeepingNumbers(json) as Record<string, unknown>);
}

export function readEnvelope(body: Buffer): Envelope {
  const json = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    return { type: undefined, version: undefined, timestamp: undefined, subject: undefined, userMetadata: undefined };
  }
  const data = isRecord(parsed['data']) ? parsed['data'] : undefined;
  const metadata = exactUserMetadata(json, parsed);
  return {
    type: text(parsed['type']),
    version: text(parsed['version']),
    timestamp: text(parsed['timestamp']),
    subject: text(data?.['id']),
    userMetadata: isRecord(metadata) ? metadata : undefined,
  };
}
