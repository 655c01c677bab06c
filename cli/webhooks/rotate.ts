/** `webhooks rotate`: a new signing secret from Gemini, stored as the newest in the stack at once. */
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse, STACK_OPTIONS, stackSelector } from '../options.ts';
import { resolveWebhookId, storeNewSecret } from './shared.ts';

export const OPTIONS = { ...GEMINI_OPTIONS, ...STACK_OPTIONS, immediately: { type: 'boolean' } } as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks rotate [ID] [--immediately] [--stack STACK] [--cwd DIR]',
  about: `Asks Gemini for a new signing secret for the webhook (default: the project's only one) and puts it
first in the stack config \`signingSecrets\`. The previous secrets stay valid for 24 hours, or stop
at once with --immediately. Then: \`pulumi up\` now, \`gemini-webhooks webhooks prune\` after the grace.`,
  options: OPTIONS,
  explain: { immediately: '--immediately     revoke the previous secrets at once (for a leaked secret)' },
  examples: [
    'npx gemini-webhooks webhooks rotate && pulumi up',
    'npx gemini-webhooks webhooks rotate wh_123 --immediately',
  ],
});

export async function rotateCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values, positionals } = parse('webhooks rotate', argv, OPTIONS, true);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const client = geminiClient(values, context);
  const selector = stackSelector(values);
  const id = await resolveWebhookId(client, positionals[0], 'webhooks rotate');
  const immediately = values.immediately ?? false;
  const answer = await client.rotateSigningSecret(
    id,
    immediately ? 'revoke_previous_secrets_immediately' : 'revoke_previous_secrets_after_h24',
  );
  if (typeof answer.secret !== 'string' || answer.secret === '') {
    throw new CliError(
      `Gemini rotated the secret of webhook ${id} but returned no secret; rotate again to get one you can store.`,
    );
  }
  context.out(`Gemini issued a new signing secret for webhook ${id}.`);
  const stored = await storeNewSecret(context, selector, answer.secret, values['show-secret'] ?? false);
  context.out('Next:');
  const revoked = immediately
    ? ' (the old ones are already revoked: deliveries fail, and Gemini retries them, until this is deployed)'
    : '';
  context.out(`  1. \`pulumi up\` now, so the receiver accepts the new secret${revoked}.`);
  context.out(
    immediately
      ? '  2. `gemini-webhooks webhooks prune`, then `pulumi up` again, to drop the revoked secrets from the stack.'
      : '  2. After 24 hours (the grace), ' +
          '`gemini-webhooks webhooks prune` and `pulumi up` to drop the previous secret.',
  );
  return stored ? 0 : 1;
}
