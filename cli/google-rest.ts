/**
 * Google's REST APIs that have no emulator here (Cloud Billing, Service Usage, Resource Manager's org
 * policies and project number), called with an OAuth token from Application Default Credentials through
 * the context's `fetch`, so tests answer them with the documented response shapes.
 */
import type { CliContext } from './context.ts';
import { fetchFailureCause } from './errors.ts';

export interface RestAnswer {
  status: number;
  body: unknown;
  /** Google's `error.message`, when it sent one. */
  message?: string;
}

export class GoogleRestError extends Error {
  override name = 'GoogleRestError';
}

export async function googleRest(
  context: CliContext,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<RestAnswer> {
  let token: string;
  try {
    token = await context.google.accessToken();
  } catch (error) {
    throw new GoogleRestError(
      `no Google credentials (${(error as Error).message.split('\n')[0]}); run \`gcloud auth ` +
        `application-default login\``,
    );
  }
  let response: Response;
  try {
    response = await context.fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new GoogleRestError(`cannot reach ${new URL(url).host}: ${fetchFailureCause(error)}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const message = (parsed as { error?: { message?: unknown } } | undefined)?.error?.message;
  return { status: response.status, body: parsed, ...(typeof message === 'string' ? { message } : {}) };
}
