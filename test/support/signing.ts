/**
 * Key material and signatures for the verification unit tests, made by code independent of the
 * receiver: the `standardwebhooks` package for HMAC `v1`, WebCrypto for ed25519 `v1a` (no JS
 * library signs it yet), `jose` for RS256 JWTs. Hand-built tokens (`alg: none`, HS256 keyed with
 * the RSA public key) are the attacks themselves, so they are built by hand on purpose.
 */
import { createHmac, createPublicKey, webcrypto, type JsonWebKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { Webhook } from 'standardwebhooks';
import type { DistinctHeaders } from '../../functions/verify/delivery.ts';
import type { StaticHeaders } from '../../functions/verify/standard-webhooks.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';

/** A fixed clock for the tests: 2026-01-22T12:00:00Z. */
export const NOW_SECONDS = 1_769_083_200;
export const NOW = new Date(NOW_SECONDS * 1000);

export const BODY =
  '{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_123456","output_file_uri":"gs://bucket/results.jsonl"}}';

/** A fresh `whsec_` secret, made as the local stack makes them. */
export const newSecret = generateSigningSecret;

/** `v1,<base64>` made by the `standardwebhooks` package's `Webhook#sign`. */
export function signV1(secret: string, id: string, timestampSeconds: number, body: string): string {
  return new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), body);
}

/** The three Standard Webhooks headers for one delivery signed with `secret`. */
export function staticHeaders(
  secret: string,
  body: string,
  options: { id?: string; timestampSeconds?: number } = {},
): StaticHeaders {
  const id = options.id ?? 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const timestampSeconds = options.timestampSeconds ?? NOW_SECONDS;
  return { id, timestamp: String(timestampSeconds), signature: signV1(secret, id, timestampSeconds, body) };
}

/** StaticHeaders in the shape Node's `req.headersDistinct` has. */
export function distinct(headers: Partial<StaticHeaders>): DistinctHeaders {
  return {
    ...(headers.id !== undefined && { 'webhook-id': [headers.id] }),
    ...(headers.timestamp !== undefined && { 'webhook-timestamp': [headers.timestamp] }),
    ...(headers.signature !== undefined && { 'webhook-signature': [headers.signature] }),
  };
}

export interface Ed25519Signer {
  /** `whpk_<base64 of the raw 32-byte public key>`. */
  publicKey: string;
  /** `v1a,<base64 ed25519 signature>` over `id.timestamp.body`. */
  sign(id: string, timestampSeconds: number, body: string): Promise<string>;
}

export async function newEd25519Signer(): Promise<Ed25519Signer> {
  const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const raw = Buffer.from(await webcrypto.subtle.exportKey('raw', pair.publicKey));
  return {
    publicKey: `whpk_${raw.toString('base64')}`,
    async sign(id, timestampSeconds, body) {
      const content = Buffer.from(`${id}.${timestampSeconds}.${body}`);
      const signature = Buffer.from(await webcrypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, content));
      return `v1a,${signature.toString('base64')}`;
    },
  };
}

export interface RsaSigner {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public key as a JWKS entry (`kid`, `alg: RS256`, `use: sig`). */
  publicJwk: JWK;
  /** The public key as SPKI PEM: what an HS256-confusion attacker would use as the HMAC key. */
  publicPem: string;
  sign(claims: JWTPayload, options?: { alg?: string; kid?: string | null }): Promise<string>;
}

export async function newRsaSigner(kid: string, alg = 'RS256'): Promise<RsaSigner> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const publicPem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk,
    publicPem,
    sign(claims, options = {}) {
      const kidHeader = options.kid === null ? {} : { kid: options.kid ?? kid };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: options.alg ?? alg, typ: 'JWT', ...kidHeader })
        .sign(privateKey);
    },
  };
}

export function base64url(value: string | Buffer | object): string {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return bytes.toString('base64url');
}

/** An unsigned token: `alg: none`, with the given (possibly empty) third segment. */
export function unsecuredToken(claims: JWTPayload, kid: string, signature = ''): string {
  return `${base64url({ alg: 'none', typ: 'JWT', kid })}.${base64url(claims)}.${signature}`;
}

/** The algorithm-confusion attack: HS256 with the RSA public key's bytes as the HMAC secret. */
export function hs256WithKey(claims: JWTPayload, kid: string, hmacKey: string | Buffer): string {
  const input = `${base64url({ alg: 'HS256', typ: 'JWT', kid })}.${base64url(claims)}`;
  return `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}
