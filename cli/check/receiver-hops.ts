/**
 * The receiver from outside, as Gemini reaches it, and its signing secrets as it loads them.
 *
 * A POST with well-formed Standard Webhooks headers and a signature made with a random key must get
 * 401 (it is up, it verifies, the path is right), and a GET 405 (only POST is served). Anything else
 * says what is in front of it: 403 from Cloud Run is the missing public invoker, 404 a wrong path.
 */
import { randomBytes } from 'node:crypto';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { fingerprintOf } from '../../infra/signing-secret.ts';
import { createSecretManagerSource } from '../../functions/secrets/secret-manager.ts';
import { fetchFailureCause } from '../errors.ts';
import { failed, passed, type HopResult } from './hops.ts';

const PROBE_TIMEOUT_MS = 15_000;

function statusAdvice(status: number): string {
  if (status === 403)
    return (
      'Cloud Run refused before the receiver ran: the public invoker is missing (`publicInvoker`; ' +
      'docs/deploy.md, "If your organisation forbids allUsers").'
    );
  if (status === 404) return "the URL is not the receiver's: use the stack output receiverUrl.";
  if (status >= 500) return 'the receiver fails: read its logs (`gcloud functions logs read gemini-webhook-receiver`).';
  return "read the receiver's logs for this request.";
}

export async function receiverHop(url: string, fetchImpl: typeof fetch, now: Date): Promise<HopResult> {
  const hop = 'receiver';
  const body = '{"type":"gemini-webhooks.check"}';
  let post: number;
  let get: number;
  try {
    const answer = await fetchImpl(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': `msg_check_${randomBytes(8).toString('hex')}`,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
        'user-agent': 'gemini-webhooks-check',
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await answer.body?.cancel().catch(() => {});
    post = answer.status;
    const second = await fetchImpl(url, {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await second.body?.cancel().catch(() => {});
    get = second.status;
  } catch (error) {
    const why =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
        : fetchFailureCause(error);
    return failed(
      hop,
      `${url} cannot be reached: ${why}.`,
      'check the URL, and that the receiver is deployed (`pulumi up`) or running (`npm start`).',
    );
  }
  if (post === 401 && get === 405)
    return passed(hop, `${url} answers a wrongly signed POST with 401 and a GET with 405: up, verifying, right path.`);
  if (post !== 401)
    return failed(hop, `${url} answered a wrongly signed POST with ${post}, not 401.`, statusAdvice(post));
  return failed(hop, `${url} answered a GET with ${get}, not 405.`, statusAdvice(get));
}

/**
 * The signing secret in Secret Manager, read the way the receiver reads it (its own loader): at least
 * one enabled version, and every secret of the stack config among them (else the last `pulumi up`
 * predates the config).
 */
export async function secretStoreHop(
  client: SecretManagerServiceClient,
  secretName: string,
  stored: readonly string[] | undefined,
): Promise<HopResult> {
  const hop = 'secret store';
  const source = createSecretManagerSource({ secretName, client, timeoutMs: 15_000 });
  let loaded: readonly string[];
  try {
    loaded = await source.current();
  } catch (error) {
    const message = (error as Error).message;
    if (/no enabled version/i.test(message))
      return failed(
        hop,
        `${secretName} has no enabled version: the receiver refuses every static delivery.`,
        "store the webhook's secret (`gemini-webhooks webhooks rotate`), then `pulumi up`.",
      );
    return failed(
      hop,
      `cannot read ${secretName}: ${message}`,
      'run this with an account that can read the secret (roles/secretmanager.secretAccessor), or fix ' +
        'what the message says.',
    );
  } finally {
    await source.close?.();
  }
  const deployed = new Set(loaded.map(fingerprintOf));
  const missing = (stored ?? []).filter((secret) => !deployed.has(fingerprintOf(secret)));
  if (missing.length > 0)
    return failed(
      hop,
      `${missing.length} of the stack's ${stored!.length} signing secrets ` +
        `(${missing.map(fingerprintOf).join(', ')}) are not enabled versions of ${secretName}.`,
      '`pulumi up`.',
    );
  return passed(
    hop,
    `${secretName} has ${loaded.length} enabled version(s)${stored ? ", the stack's secrets among them" : ''}.`,
  );
}
