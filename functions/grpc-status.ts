/**
 * gRPC status codes as the Google client libraries report them, from google-gax (the library under
 * @google-cloud/pubsub and @google-cloud/secret-manager) rather than redefined here.
 */
import { Status } from 'google-gax';

export { Status };

/** The gRPC status of an error a Google client library raised, when it carries one. */
export function grpcCode(error: unknown): Status | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** `NOT_FOUND`, `UNAVAILABLE`, ...; the number itself for a code gRPC does not define. */
export function grpcStatusName(code: number): string {
  return (Status as unknown as Record<number, string | undefined>)[code] ?? String(code);
}
