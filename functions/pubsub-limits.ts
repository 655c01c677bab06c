/**
 * What Pub/Sub accepts in one message (https://cloud.google.com/pubsub/quotas#resource_limits):
 * at most 100 attributes, keys of 1-256 bytes not starting with `goog`, values of at most 1024
 * bytes, everything UTF-8, and 10 MB in all. Pub/Sub refuses a whole Publish request for one
 * message outside these limits, failing every other message batched with it; the emulator even
 * answers a retryable error, so the batch keeps failing until the publish deadline.
 */

export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
export const MAX_ATTRIBUTE_VALUE_BYTES = 1024;
export const MAX_MESSAGE_BYTES = 10_000_000;

/** Why Pub/Sub would refuse this message, or undefined when it would accept it. */
export function messageProblem(data: Buffer, attributes: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES) return `${entries.length} attributes (at most ${MAX_ATTRIBUTES})`;
  let size = data.length;
  for (const [key, value] of entries) {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    size += keyBytes + valueBytes;
    if (keyBytes === 0 || keyBytes > MAX_ATTRIBUTE_KEY_BYTES)
      return `an attribute key of ${keyBytes} bytes (1-${MAX_ATTRIBUTE_KEY_BYTES})`;
    if (key.startsWith('goog')) return 'an attribute key starting with "goog"';
    if (valueBytes > MAX_ATTRIBUTE_VALUE_BYTES)
      return `an attribute value of ${valueBytes} bytes (at most ${MAX_ATTRIBUTE_VALUE_BYTES})`;
    // A lone UTF-16 surrogate has no UTF-8 encoding: gRPC would send bytes Pub/Sub refuses.
    if (!key.isWellFormed() || !value.isWellFormed()) return 'an attribute that is not valid UTF-8';
  }
  if (size > MAX_MESSAGE_BYTES) return `${size} bytes in all (at most ${MAX_MESSAGE_BYTES})`;
  return undefined;
}
