/**
 * Throwaway key material for the local stack: an HMAC signing secret and an RS256 key pair whose
 * public half is served as a JWKS on loopback, so `npm run send` can sign both kinds of delivery.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface JwtKeyPair {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateJwtKeyPair(kid = `local-${randomBytes(4).toString('hex')}`): Promise<JwtKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

export interface JwksServer {
  url: string;
  /** Replace the served document (tests use it to rotate keys or serve garbage). */
  setDocument(document: unknown, status?: number): void;
  requests(): number;
  close(): Promise<void>;
}

export async function serveJwks(keys: readonly JWK[], port = 0): Promise<JwksServer> {
  let body = JSON.stringify({ keys });
  let status = 200;
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}/.well-known/jwks.json`,
    setDocument(document, newStatus = 200) {
      body = typeof document === 'string' ? document : JSON.stringify(document);
      status = newStatus;
    },
    requests: () => count,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
