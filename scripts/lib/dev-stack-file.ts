import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm start` leaves the session's receiver URL and throwaway keys for `npm run send` (mode 0600,
 * git-ignored).
 */
export const DEV_STACK_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.local', 'dev-stack.json');

/** The `aud` of the local stack's dynamic-webhook tokens (the receiver refuses JWTs without an audience check). */
export const LOCAL_JWT_AUDIENCE = 'gemini-webhooks-local';
