/**
 * Signed deliveries for the load generator: every request gets a unique webhook id and a fresh
 * Standard Webhooks `v1` signature, so per-instance duplicate suppression never short-cuts one.
 * Signing uses node:crypto (cheap, so the load generator takes little CPU from the contestants);
 * run.ts checks once that the `standardwebhooks` package accepts what this produces.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
export { generateSigningSecret as generateSecret } from '../scripts/lib/dev-keys.ts';

export interface SignedDelivery {
  headers: Record<string, string>;
  body: Buffer;
}

const TYPES = ['batch.succeeded', 'batch.failed', 'interaction.completed', 'video.generated'] as const;

export function createSigner(secret: string): (sequence: number) => SignedDelivery {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const run = randomBytes(4).toString('hex');
  return (sequence) => {
    const id = `msg_${run}_${sequence}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const type = TYPES[sequence % TYPES.length]!;
    // A thin Gemini event, as the guide shows them: pointers to results, a few hundred bytes.
    const body = Buffer.from(
      JSON.stringify({
        type,
        version: 'v1',
        timestamp: new Date().toISOString(),
        data: {
          id: `batches/${run}-${sequence}`,
          output_file_uri: `gs://bench-bucket/batches/${run}-${sequence}/results.jsonl`,
        },
      }),
    );
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
    return {
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
      body,
    };
  };
}

/** One POST outside the load generator (cold start, sanity checks). Resolves with the status code. */
export function post(url: string, delivery: SignedDelivery, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...delivery.headers, 'content-length': String(delivery.body.length) },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(delivery.body);
  });
}
