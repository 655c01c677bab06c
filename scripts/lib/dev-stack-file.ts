import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm start` leaves the session's receiver URL and throwaway keys for `npm run send` and
 * `gemini-webhooks check --local` (mode 0600, git-ignored). GEMINI_WEBHOOKS_DEV_STACK_FILE moves it, so a
 * test's local stack never overwrites the one a developer is running.
 */
export const DEV_STACK_FILE =
  process.env['GEMINI_WEBHOOKS_DEV_STACK_FILE'] ||
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.local', 'dev-stack.json');

/** The `aud` of the local stack's dynamic-webhook tokens (the receiver refuses JWTs without an audience check). */
export const LOCAL_JWT_AUDIENCE = 'gemini-webhooks-local';
