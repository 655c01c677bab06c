/**
 * `npm run send -- <type> [--url U] [--secret S] [--jwt] [--id ID] [--meta key=value ...]`
 * Signs a realistic sample envelope of any event type the way Gemini would, posts it to the
 * receiver and prints the answer. Defaults come from the running `npm start` session.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { Webhook } from 'standardwebhooks';
import { EVENT_TYPES } from '../functions/catalog.ts';
import { DEFAULT_PORT } from '../functions/config.ts';
import { sampleEvent } from './lib/samples.ts';
import { DEV_STACK_FILE, LOCAL_JWT_AUDIENCE } from './lib/dev-stack-file.ts';

const USAGE =
  'usage: npm run send -- <event type> [--url URL] [--secret whsec_...] [--jwt] [--id WEBHOOK_ID] ' +
  '[--meta key=value]...\n' +
  `event types: ${EVENT_TYPES.join(', ')} (any other string goes to the unrouted topic)`;

function die(message: string): never {
  console.error(`npm run send: ${message}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    secret: { type: 'string' },
    jwt: { type: 'boolean', default: false },
    id: { type: 'string' },
    meta: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [type] = positionals;
if (!type) die(`no event type given.\n${USAGE}`);

const stack: { url?: string; secret?: string; jwtPrivateJwk?: JWK; jwtAudience?: string } = existsSync(DEV_STACK_FILE)
  ? (JSON.parse(readFileSync(DEV_STACK_FILE, 'utf8')) as typeof stack)
  : {};
const url = values.url ?? stack.url ?? `http://127.0.0.1:${process.env['PORT'] ?? DEFAULT_PORT}/`;
const userMetadata = values.meta?.length
  ? Object.fromEntries(
      values.meta.map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) die(`--meta takes key=value (got ${JSON.stringify(pair)})`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    )
  : undefined;
const body = JSON.stringify(sampleEvent(type, userMetadata ? { userMetadata } : {}));
const webhookId = values.id ?? `msg_${randomUUID().replaceAll('-', '')}`;
const now = new Date();
const headers: Record<string, string> = {
  'content-type': 'application/json',
  'webhook-id': webhookId,
  'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
};

if (values.jwt) {
  if (!stack.jwtPrivateJwk)
    die('no local JWT key: start the local stack with `npm start` first (it serves the matching JWKS).');
  const key = await importJWK(stack.jwtPrivateJwk, 'RS256');
  headers['webhook-signature'] = await new SignJWT({ body_sha256: createHash('sha256').update(body).digest('hex') })
    .setProtectedHeader({ alg: 'RS256', kid: stack.jwtPrivateJwk.kid ?? 'local', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(webhookId)
    .setAudience(stack.jwtAudience ?? LOCAL_JWT_AUDIENCE)
    .sign(key);
} else {
  const secret = values.secret ?? stack.secret ?? process.env['WEBHOOK_SIGNING_SECRETS']?.split(',')[0];
  if (!secret) die('no signing secret: pass --secret, set WEBHOOK_SIGNING_SECRETS, or run `npm start` first.');
  try {
    // The standardwebhooks package expects the `whsec_` prefix or bare base64.
    headers['webhook-signature'] = new Webhook(secret).sign(webhookId, now, body);
  } catch {
    die('the signing secret is not a Standard Webhooks secret (expected whsec_ followed by base64).');
  }
}

let response: Response;
try {
  response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
} catch (error) {
  die(`could not reach ${url}: ${(error as Error).message} (is \`npm start\` running?)`);
}
console.log(`POST ${url} ${type} webhook-id=${webhookId} (${values.jwt ? 'JWT' : 'HMAC v1'})`);
console.log(`-> ${response.status} ${response.statusText} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
