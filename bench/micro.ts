/**
 * Verification micro-benchmarks, in this process, on identical inputs:
 * - Standard Webhooks `v1` (HMAC-SHA256) at 1 KiB and 64 KiB with three secrets configured and the
 *   signature matching the last one: ours (`verifyStandardWebhook`, keys pre-parsed as the receiver
 *   holds them) versus the `standardwebhooks` and `svix` packages (one `Webhook` per secret, tried
 *   in turn, which is how a user of those packages accepts several secrets);
 * - RS256 JWT: ours (`verifyJwtDelivery` with a local key set) versus a bare `crypto.verify` with
 *   the key already imported (the floor: one RSA verification and nothing else).
 */
import { createHmac, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { verifyJwtDelivery } from '../functions/verify/jwt.ts';
import { parseSigningSecrets } from '../functions/verify/keys.ts';
import { verifyStandardWebhook, type StaticKeys } from '../functions/verify/standard-webhooks.ts';
import { generateSigningSecret } from '../scripts/lib/dev-keys.ts';

export interface Rate {
  /** Verifications per second (median of the rounds). */
  opsPerSecond: number;
  /** Nanoseconds per verification, from the same median. */
  nsPerOp: number;
  rounds: number;
}

export interface HmacResult {
  bodyBytes: number;
  ours: Rate;
  standardwebhooks: Rate;
  svix: Rate;
  /** ours / standardwebhooks */
  ratioVsStandardwebhooks: number;
  ratioVsSvix: number;
}

export interface MicroResults {
  hmac: HmacResult[];
  jwt: { ours: Rate; bareCryptoVerify: Rate; ratioOfBare: number };
}

interface Timing {
  warmupMs: number;
  roundMs: number;
  rounds: number;
}

/** Runs `fn` in batches until `roundMs` has passed, `rounds` times; the median round decides. */
async function measure(fn: () => unknown, timing: Timing): Promise<Rate> {
  const runFor = (ms: number): number => {
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(ms * 1e6));
    let ops = 0;
    let now = start;
    let batch = 1;
    while (now < end) {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
      now = process.hrtime.bigint();
      if (batch < 1024) batch *= 2;
    }
    return ops / (Number(now - start) / 1e9);
  };
  runFor(timing.warmupMs);
  const rates: number[] = [];
  for (let round = 0; round < timing.rounds; round++) {
    rates.push(runFor(timing.roundMs));
    // Let timers and I/O of the rest of the process run between rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  return { opsPerSecond: Math.round(median), nsPerOp: Math.round(1e9 / median), rounds: timing.rounds };
}

const secret = generateSigningSecret;

/** A JSON body of exactly `size` bytes, shaped like a Gemini event with padding in `data`. */
export function bodyOfSize(size: number): Buffer {
  const head =
    '{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/bench","output_file_uri":"gs://bucket/results.jsonl","padding":"';
  const tail = '"}}';
  const padding = 'x'.repeat(Math.max(0, size - head.length - tail.length));
  const body = Buffer.from(head + padding + tail);
  if (body.length !== size) throw new Error(`body is ${body.length} bytes, wanted ${size}`);
  return body;
}

async function hmacCase(bodyBytes: number, timing: Timing): Promise<HmacResult> {
  const secrets = [secret(), secret(), secret()];
  const signing = secrets[2]!;
  const body = bodyOfSize(bodyBytes);
  const id = 'msg_bench_0001';
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(signing.slice('whsec_'.length), 'base64');
  const signature = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
  const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };

  // Ours, with keys decoded once, as signing-keys.ts holds them for the receiver.
  const keys: StaticKeys = { hmacKeys: parseSigningSecrets(secrets, 'bench'), ed25519Keys: [] };
  const nowSeconds = Number(timestamp);
  const ours = (): void => {
    const result = verifyStandardWebhook({ id, timestamp, signature }, body, keys, {
      nowSeconds,
      toleranceSeconds: 300,
    });
    if (!result.ok) throw new Error(`ours rejected the bench input: ${result.reason}`);
  };
  // The packages take one secret per instance: try each until one accepts.
  const tryAll =
    (verifiers: Array<{ verify(payload: Buffer, headers: Record<string, string>): unknown }>) => (): void => {
      for (const verifier of verifiers) {
        try {
          verifier.verify(body, headers);
          return;
        } catch {
          // next secret
        }
      }
      throw new Error('package rejected the bench input');
    };
  const standard = tryAll(secrets.map((s) => new StandardWebhook(s)));
  const svix = tryAll(secrets.map((s) => new SvixWebhook(s)));
  // Check every contestant accepts the input before timing it.
  ours();
  standard();
  svix();

  const oursRate = await measure(ours, timing);
  const standardRate = await measure(standard, timing);
  const svixRate = await measure(svix, timing);
  return {
    bodyBytes,
    ours: oursRate,
    standardwebhooks: standardRate,
    svix: svixRate,
    ratioVsStandardwebhooks: round2(oursRate.opsPerSecond / standardRate.opsPerSecond),
    ratioVsSvix: round2(oursRate.opsPerSecond / svixRate.opsPerSecond),
  };
}

async function jwtCase(timing: Timing): Promise<MicroResults['jwt']> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const body = bodyOfSize(1024);
  const now = new Date();
  const token = await new SignJWT({ sub: 'batches/bench' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
  const options = { keys: createLocalJWKSet({ keys: [jwk] }), clockToleranceSeconds: 60, requireBodyBinding: false };
  const first = await verifyJwtDelivery(token, body, options, now);
  if (!first.ok) throw new Error(`ours rejected the bench JWT: ${first.reason}`);

  // Ours is async (jose is): time a fixed number of sequential awaits per batch instead.
  const oursRate = await measureAsync(async () => {
    const result = await verifyJwtDelivery(token, body, options, now);
    if (!result.ok) throw new Error(result.reason);
  }, timing);

  const [headerB64, payloadB64, signatureB64] = token.split('.') as [string, string, string];
  const signingInput = Buffer.from(`${headerB64}.${payloadB64}`);
  const signatureBytes = Buffer.from(signatureB64, 'base64url');
  const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  const bare = (): void => {
    if (!cryptoVerify('RSA-SHA256', signingInput, keyObject, signatureBytes)) throw new Error('bare verify failed');
  };
  bare();
  const bareRate = await measure(bare, timing);
  return {
    ours: oursRate,
    bareCryptoVerify: bareRate,
    ratioOfBare: round2(oursRate.opsPerSecond / bareRate.opsPerSecond),
  };
}

async function measureAsync(fn: () => Promise<void>, timing: Timing): Promise<Rate> {
  const runFor = async (ms: number): Promise<number> => {
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(ms * 1e6));
    let ops = 0;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 64; i++) await fn();
      ops += 64;
      now = process.hrtime.bigint();
    }
    return ops / (Number(now - start) / 1e9);
  };
  await runFor(timing.warmupMs);
  const rates: number[] = [];
  for (let round = 0; round < timing.rounds; round++) rates.push(await runFor(timing.roundMs));
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  return { opsPerSecond: Math.round(median), nsPerOp: Math.round(1e9 / median), rounds: timing.rounds };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export async function runMicro(quick: boolean): Promise<MicroResults> {
  const timing: Timing = quick
    ? { warmupMs: 150, roundMs: 250, rounds: 3 }
    : { warmupMs: 300, roundMs: 500, rounds: 5 };
  const hmac = [await hmacCase(1024, timing), await hmacCase(64 * 1024, timing)];
  const jwt = await jwtCase(timing);
  return { hmac, jwt };
}
