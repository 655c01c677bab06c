/**
 * One entry point for verifying a delivery: detect the scheme from `webhook-signature`
 * (Standard Webhooks `v1,`/`v1a,` entries, or a three-segment JWT), check it is enabled, then
 * hand over to the scheme's verifier. Key material arrives as arguments (the signing secrets, or
 * the JWKS key set loaded for the token's `kid`); loading it is the caller's business, so
 * verification stays pure.
 */
/** Header values as Node's `req.headersDistinct` gives them: repeated headers stay separate. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;
import { COMPACT_JWT, verifyJwtDelivery, type JwtOptions } from './jwt.ts';
import { malformed, unauthorized, type Rejection, type Scheme, type VerificationResult } from './result.ts';
import { verifyStandardWebhook, type StaticHeaders, type StaticKeys } from './standard-webhooks.ts';

export interface DetectedStatic {
  scheme: 'static';
  headers: StaticHeaders;
}

export interface DetectedJwt {
  scheme: 'jwt';
  token: string;
  /** Present when the sender also sent Standard Webhooks id/timestamp headers (not signed). */
  webhookId?: string;
  timestamp?: string;
}

export type Detected = DetectedStatic | DetectedJwt;

/** A header value as one string; a repeated header is refused rather than guessed at. */
function single(headers: DistinctHeaders, name: string): string | undefined | Rejection {
  const values = headers[name];
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) return malformed('duplicate_headers', `${name} appears ${values.length} times`);
  return values[0];
}

function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && 'ok' in value;
}

/** Decides the scheme from the headers alone. Never throws, never parses the body. */
export function detectScheme(headers: DistinctHeaders, enabled: ReadonlySet<Scheme>): Detected | Rejection {
  const signature = single(headers, 'webhook-signature');
  const id = single(headers, 'webhook-id');
  const timestamp = single(headers, 'webhook-timestamp');
  for (const value of [signature, id, timestamp]) if (isRejection(value)) return value;
  const sig = (signature as string | undefined)?.trim();
  if (!sig) return malformed('missing_headers', 'webhook-signature is missing');

  if (COMPACT_JWT.test(sig)) {
    if (!enabled.has('jwt')) return unauthorized('scheme_disabled', 'JWT (dynamic webhook) deliveries are disabled');
    return {
      scheme: 'jwt',
      token: sig,
      ...(id !== undefined && { webhookId: id as string }),
      ...(timestamp !== undefined && { timestamp: timestamp as string }),
    };
  }
  if (!enabled.has('static'))
    return unauthorized('scheme_disabled', 'Standard Webhooks (static) deliveries are disabled');
  if (id === undefined || timestamp === undefined) {
    const missing = [id === undefined && 'webhook-id', timestamp === undefined && 'webhook-timestamp'].filter(Boolean);
    return malformed('missing_headers', `${missing.join(' and ')} missing`);
  }
  return { scheme: 'static', headers: { id: id as string, timestamp: timestamp as string, signature: sig } };
}

export interface VerificationKeys {
  static?: StaticKeys;
  jwt?: JwtOptions;
}

export interface VerificationSettings {
  toleranceSeconds: number;
}

/** Verifies an already-detected delivery with the given keys. */
export async function verifyDetected(
  detected: Detected,
  body: Buffer,
  keys: VerificationKeys,
  settings: VerificationSettings,
  now: Date,
): Promise<VerificationResult> {
  if (detected.scheme === 'static') {
    const staticKeys = keys.static ?? { hmacKeys: [], ed25519Keys: [] };
    return verifyStandardWebhook(detected.headers, body, staticKeys, {
      nowSeconds: Math.floor(now.getTime() / 1000),
      toleranceSeconds: settings.toleranceSeconds,
    });
  }
  if (!keys.jwt) return unauthorized('scheme_disabled', 'JWT (dynamic webhook) deliveries are disabled');
  return verifyJwtDelivery(detected.token, body, keys.jwt, now);
}
