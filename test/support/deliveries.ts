/**
 * Signed deliveries made the way Gemini makes them, by code independent of the receiver: the
 * `standardwebhooks` package for HMAC `v1`, `jose` for RS256 JWTs.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Webhook } from 'standardwebhooks';
import { JWT_AUDIENCE } from './local-stack.ts';

export interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
}

export function newWebhookId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export function signStatic(secret: string, payload: unknown, options: { id?: string; at?: Date } = {}): Delivery {
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const id = options.id ?? newWebhookId();
  const at = options.at ?? new Date();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, body.toString('utf8')),
    },
  };
}

export async function signJwt(
  privateJwk: JWK,
  payload: unknown,
  claims: JWTPayload = {},
  options: { id?: string; audience?: string } = {},
): Promise<Delivery> {
  const body = Buffer.from(JSON.stringify(payload));
  const key = await importJWK(privateJwk, 'RS256');
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid ?? 'k', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setAudience(options.audience ?? JWT_AUDIENCE)
    .sign(key);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...(options.id !== undefined && { 'webhook-id': options.id }),
      'webhook-signature': token,
    },
  };
}

export async function post(
  url: string,
  delivery: Delivery,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body, ...init });
  return { status: response.status, headers: response.headers, body: await response.text() };
}
