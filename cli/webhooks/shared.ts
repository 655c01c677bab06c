/**
 * What the webhooks subcommands share: checking the event types and URL a webhook is given, picking
 * the webhook, printing one readably, and storing a secret Gemini has just shown for the only time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUED_ONLY_EVENT_TYPES, EVENT_TYPES } from '../../functions/catalog.ts';
import type { CliContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { listOption } from '../options.ts';
import type { WebhookServiceClient } from '../gemini/client.ts';
import type { Webhook } from '../gemini/types.ts';
import {
  PulumiCommandError,
  PulumiMissingError,
  readSigningSecrets,
  setSecretsCommand,
  setSecretsFromFileCommand,
  SIGNING_SECRETS_KEY,
  writeSigningSecrets,
  type StackSelector,
} from '../pulumi.ts';
import { MAX_SIGNING_SECRETS } from '../../infra/signing-secret.ts';
import { describeSecret, prependSecret } from '../signing-secrets.ts';

const GUIDE = 'https://ai.google.dev/gemini-api/docs/webhooks';
const REFERENCE = 'https://ai.google.dev/api/webhooks';

/**
 * `--events`: catalog event types, repeated or comma-separated (cli/options.ts `listOption`). The
 * two the guide's catalog lists but the API reference's enum does not (`batch.cancelled`,
 * `interaction.cancelled`) are allowed, with a one-line note on stderr, since Gemini may or may not
 * accept them.
 */
export function parseEvents(values: readonly string[], context: CliContext): string[] {
  const events = listOption(values);
  if (events.length === 0) throw new UsageError('--events lists no event type.');
  const unknown = events.filter((event) => !(EVENT_TYPES as readonly string[]).includes(event));
  if (unknown.length > 0) {
    throw new UsageError(
      `--events: ${unknown.join(', ')} cannot be subscribed to; choose from ${EVENT_TYPES.join(', ')}.`,
    );
  }
  const unlisted = events.filter((event) => (CATALOGUED_ONLY_EVENT_TYPES as readonly string[]).includes(event));
  if (unlisted.length > 0) {
    context.err(
      `note: ${unlisted.join(' and ')} ${unlisted.length === 1 ? 'is' : 'are'} ` +
        `in the event catalog of the Gemini guide (${GUIDE}) ` +
        `but not in the API reference's list (${REFERENCE}); ` +
        `Gemini may refuse ${unlisted.length === 1 ? 'it' : 'them'}.`,
    );
  }
  return events;
}

/** `--url`: Gemini delivers only to public HTTPS endpoints. */
export function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL (got ${JSON.stringify(url)}).`);
  }
  if (parsed.protocol !== 'https:') {
    throw new UsageError(
      '--url must be https: Gemini delivers only to public HTTPS endpoints ' +
        `(got ${parsed.protocol}//${parsed.host}); for local development use a tunnel, ` +
        'or `gemini-webhooks listen` to consume events locally.',
    );
  }
  return parsed.toString();
}

/** The webhook's `id` (never its `name`, which is only a label). */
export function webhookId(webhook: Webhook): string {
  return webhook.id ?? '?';
}

/** The id given, or the project's only webhook when none is given. */
export async function resolveWebhookId(
  client: WebhookServiceClient,
  given: string | undefined,
  command: string,
): Promise<string> {
  if (given !== undefined) return given;
  const webhooks = await client.list();
  if (webhooks.length === 1) return webhookId(webhooks[0]!);
  if (webhooks.length === 0)
    throw new UsageError(
      `${command}: this project has no webhooks; create one with \`gemini-webhooks webhooks create\`.`,
    );
  throw new UsageError(
    `${command}: this project has ${webhooks.length} webhooks; name one by id: ${webhooks.map(webhookId).join(', ')}.`,
  );
}

export const STATE_ADVICE: Record<string, string> = {
  disabled: 'Gemini sends nothing to it. Turn it back on with `gemini-webhooks webhooks enable {id}`.',
  disabled_due_to_failed_deliveries:
    'Gemini stopped delivering after repeated failed deliveries. Check that the receiver ' +
    'answers (its logs; `gemini-webhooks webhooks ping {id}`), deploy a fix with ' +
    '`pulumi up` if needed, then `gemini-webhooks webhooks enable {id}`. ' +
    "Gemini's documentation does not say whether events from while it was disabled are sent later.",
};

export function describeWebhook(webhook: Webhook, now: Date): string[] {
  const id = webhookId(webhook);
  const lines = [`webhook ${id}${webhook.name ? `  "${webhook.name}"` : ''}`];
  lines.push(`  state:   ${webhook.state ?? 'unknown'}`);
  lines.push(`  uri:     ${webhook.uri ?? '-'}`);
  lines.push(`  events:  ${(webhook.subscribed_events ?? []).join(', ') || '-'}`);
  const secrets = (webhook.signing_secrets ?? []).map((secret) => {
    const expiry = secret.expire_time;
    if (expiry === undefined) return `${secret.truncated_secret ?? '?'} (current)`;
    const passed = Date.parse(expiry) <= now.getTime();
    return `${secret.truncated_secret ?? '?'} (${passed ? 'expired' : 'valid until'} ${expiry})`;
  });
  lines.push(`  secrets: ${secrets.join(', ') || '-'}`);
  if (webhook.create_time || webhook.update_time) {
    lines.push(
      `  created: ${webhook.create_time ?? '-'}${webhook.update_time ? `, updated ${webhook.update_time}` : ''}`,
    );
  }
  const advice = STATE_ADVICE[webhook.state ?? ''];
  if (advice) lines.push(`  ! ${advice.replaceAll('{id}', id)}`);
  return lines;
}

/** A webhook for `--json`: the one-time secret is never echoed unless asked. */
export function redacted(webhook: Webhook, showSecret: boolean): Webhook {
  if (webhook.new_signing_secret === undefined || showSecret) return webhook;
  return { ...webhook, new_signing_secret: '[stored in the stack config; --show-secret prints it]' };
}

/**
 * Puts a freshly issued secret at the front of the stack's `signingSecrets`. When that cannot be
 * done, the secret must still not be lost (Gemini shows it once) nor land in the terminal's
 * scrollback with every stored secret beside it: the new list goes to a file only the user can read,
 * and the command printed reads it on standard input (`pulumi config set` takes the value from stdin
 * when none is given). With --show-secret the command holds the list itself, as asked. Returns false.
 */
export async function storeNewSecret(
  context: CliContext,
  selector: StackSelector,
  secret: string,
  showSecret: boolean,
): Promise<boolean> {
  let stored: string[] | undefined;
  let problem: string | undefined;
  try {
    stored = await readSigningSecrets(context.pulumi, selector);
    const next = prependSecret(stored, secret);
    await writeSigningSecrets(context.pulumi, selector, next);
    context.out(
      `Stored the new signing secret ${describeSecret(secret, 0)} ` +
        `as the newest of ${next.length} in the stack config \`${SIGNING_SECRETS_KEY}\`.`,
    );
    if (next.length > MAX_SIGNING_SECRETS) {
      context.err(
        `warning: the stack now holds ${next.length} signing secrets and \`pulumi up\` ` +
          `accepts at most ${MAX_SIGNING_SECRETS}; run \`gemini-webhooks webhooks prune\` ` +
          'first (add --drop-unlisted for secrets Gemini no longer lists).',
      );
    }
    if (showSecret) context.out(`New signing secret: ${secret}`);
    return true;
  } catch (error) {
    if (!(error instanceof PulumiMissingError || error instanceof PulumiCommandError)) throw error;
    problem = error.message;
  }
  const next = prependSecret(stored ?? [], secret);
  context.out(`Could not store the new signing secret in the stack: ${problem}`);
  context.out('Gemini shows it only once. Run this now, in the Pulumi project directory:');
  context.out('');
  if (showSecret) {
    context.out(`  ${setSecretsCommand(selector, next)}`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'gemini-webhooks-'));
    const file = join(dir, 'signing-secrets.json');
    writeFileSync(file, JSON.stringify(next), { mode: 0o600 });
    context.out(`  ${setSecretsFromFileCommand(selector, file)} && rm -r ${dir}`);
    context.out('');
    context.out(
      `${file} (readable by you only) holds the ${next.length} secret(s), newest first; ` +
        'add --show-secret to print them instead.',
    );
  }
  context.out('');
  if (stored === undefined) {
    context.out(
      `If \`${SIGNING_SECRETS_KEY}\` already holds secrets, ` +
        'keep them after the new one in that JSON array (newest first).',
    );
  }
  return false;
}
