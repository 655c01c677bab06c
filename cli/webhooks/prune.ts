/** `webhooks prune`: drops the stored signing secrets whose grace Gemini says has passed. */
import type { CliContext } from '../context.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse, STACK_OPTIONS, stackSelector } from '../options.ts';
import { readSigningSecrets, SIGNING_SECRETS_KEY, writeSigningSecrets } from '../pulumi.ts';
import { describeSecret, planPrune, type SecretVerdict } from '../signing-secrets.ts';

export const OPTIONS = {
  ...GEMINI_OPTIONS,
  ...STACK_OPTIONS,
  'dry-run': { type: 'boolean' },
  'drop-unlisted': { type: 'boolean' },
} as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks prune [--dry-run] [--drop-unlisted] [--stack STACK] [--cwd DIR]',
  about: `Removes from the stack config \`signingSecrets\` every secret whose \`expire_time\` (as Gemini lists
it under the webhooks' \`signing_secrets\`) has passed, then tells you to \`pulumi up\`.
A stored secret is matched to Gemini's \`truncated_secret\` (\`whsec_...\` and its last four characters).`,
  options: OPTIONS,
  explain: {
    'drop-unlisted': '--drop-unlisted   also drop secrets no webhook of this project lists any more (never the newest)',
    'dry-run': '--dry-run         show what would be dropped, change nothing',
  },
  examples: ['npx gemini-webhooks webhooks prune --dry-run', 'npx gemini-webhooks webhooks prune && pulumi up'],
});

function explain(verdict: SecretVerdict): string {
  switch (verdict.why) {
    case 'expired':
      return `grace ended ${verdict.expireTime ?? ''}`.trim();
    case 'valid':
      return verdict.expireTime ? `valid until ${verdict.expireTime}` : 'current';
    case 'unlisted':
      return verdict.action === 'drop' ? 'no webhook lists it' : 'no webhook lists it (kept; --drop-unlisted drops it)';
    case 'ambiguous':
      return "Gemini's truncated form matches more than one stored secret (kept)";
    case 'newest':
      return 'newest secret (kept)';
  }
}

export async function pruneCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('webhooks prune', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const selector = stackSelector(values);
  const webhooks = await geminiClient(values, context).list();
  const stored = await readSigningSecrets(context.pulumi, selector);
  if (stored.length === 0) {
    context.out(`The stack config \`${SIGNING_SECRETS_KEY}\` holds no secrets; nothing to prune.`);
    return 0;
  }
  const plan = planPrune(stored, webhooks, { now: context.now(), dropUnlisted: values['drop-unlisted'] ?? false });
  stored.forEach((secret, index) => {
    const verdict = plan.verdicts[index]!;
    context.out(`${verdict.action === 'drop' ? 'drop' : 'keep'} ${describeSecret(secret, index)}: ${explain(verdict)}`);
  });
  if (plan.drop.length === 0) {
    context.out('Nothing to prune.');
    return 0;
  }
  if (values['dry-run']) {
    context.out(`Dry run: would drop ${plan.drop.length} of ${stored.length} secrets.`);
    return 0;
  }
  await writeSigningSecrets(context.pulumi, selector, plan.keep);
  context.out(
    `Dropped ${plan.drop.length} secret(s); ${plan.keep.length} remain. ` +
      'Next: `pulumi up` to remove them from the receiver.',
  );
  return 0;
}
