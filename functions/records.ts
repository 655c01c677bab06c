/** The one check for "a JSON object": not null, not an array. Shared by every reader of untrusted JSON. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
