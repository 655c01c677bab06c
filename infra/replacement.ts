/**
 * Changes that would replace what holds data or what others know by name. A topic's name, a
 * subscription's name and topic, a secret's id and replication, a function's name and region are
 * fixed in Google Cloud: the provider replaces the resource when one changes. Replacing a topic
 * deletes its retained messages and leaves the subscriptions of other stacks on `_deleted-topic_`
 * (https://cloud.google.com/pubsub/docs/delete-topic); replacing a subscription deletes its backlog;
 * replacing the secret deletes the signing secrets Gemini showed once; replacing the function gives it
 * a new URL (https://cloud.google.com/functions/docs/calling/http), so the one registered with Gemini
 * goes stale. The program refuses these changes, unless the stack allows them (`allowReplacement`),
 * with the sentence built here. Pure, like subscription-filter.ts.
 */

/** The kinds of resource guarded, and the inputs whose change replaces each. */
export const REPLACING_INPUTS = {
  topic: ['project', 'name'],
  subscription: ['project', 'name', 'topic'],
  secret: ['project', 'secretId', 'replication'],
  function: ['project', 'name', 'location'],
} as const;
export type GuardedKind = keyof typeof REPLACING_INPUTS;

/** One guarded resource whose deployed identity differs from the configured one. */
export interface Replacement {
  kind: GuardedKind;
  /** The deployed name of the resource. */
  resource: string;
  /** Per changed input: deployed and configured value, as comparable text. */
  changed: { input: string; deployed: string; configured: string }[];
}

/** The setting a user changes to change an input. */
function settingOf(input: string): string {
  if (input === 'project') return 'gcp:project';
  if (input === 'location') return 'gcp:region';
  if (input === 'replication') return 'secretReplication';
  return 'topicPrefix';
}

/**
 * A value as it can be compared across the program and the state: resource paths by their last
 * segment (the provider may store `projects/p/topics/t` for `t`), a replication policy by its kind and
 * regions (the provider fills in empty fields).
 */
export function comparable(input: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (input === 'replication') {
    const policy = value as { auto?: unknown; userManaged?: { replicas?: { location?: string }[] } | null };
    const replicas = policy.userManaged?.replicas ?? [];
    if (policy.userManaged !== undefined && policy.userManaged !== null && replicas.length > 0)
      return replicas
        .map((r) => String(r.location))
        .sort()
        .join(',');
    return 'automatic';
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return input === 'name' || input === 'topic' ? (text.split('/').pop() ?? text) : text;
}

/** The changed inputs of one resource, or undefined when it keeps its identity. */
export function replacementOf(
  kind: GuardedKind,
  deployed: Record<string, unknown>,
  configured: Record<string, unknown>,
): Replacement | undefined {
  const changed = REPLACING_INPUTS[kind]
    .filter((input) => input in configured)
    .map((input) => ({
      input,
      deployed: comparable(input, deployed[input]),
      configured: comparable(input, configured[input]),
    }))
    .filter((c) => c.deployed !== c.configured);
  if (changed.length === 0) return undefined;
  return { kind, resource: comparable('name', deployed['name'] ?? deployed['secretId']), changed };
}

const LOSS: Record<GuardedKind, string> = {
  topic: "its retained messages and other stacks' subscriptions to it",
  subscription: 'its unacknowledged messages',
  secret: 'the signing secrets',
  function: 'the URL registered with Gemini',
};

/** One line: what would be replaced and lost, and the ways forward. */
export function replacementRefusal(replacements: readonly Replacement[]): string {
  const [first, ...others] = replacements;
  if (first === undefined) throw new Error('replacementRefusal needs at least one replacement');
  const settings = [...new Set(replacements.flatMap((r) => r.changed.map((c) => settingOf(c.input))))];
  const change = first.changed.map((c) => `${c.input} ${c.deployed} -> ${c.configured}`).join(', ');
  const kinds = [...new Set(replacements.map((r) => r.kind))];
  return [
    `Changing ${settings.join(' and ')} would replace ${first.kind} ${first.resource} (${change})` +
      (others.length === 0 ? '' : ` and ${others.length} more`) +
      `, losing ${kinds.map((k) => LOSS[k]).join(', ')}.`,
    'Keep the deployed value; or deploy the new one as a second stack, move Gemini (webhooks update --url) ' +
      'and your consumers to it, let the old subscriptions drain, then destroy the old stack;',
    'to accept the loss, `pulumi config set allowReplacement true` and run `pulumi up` ' +
      '(docs/first-deploy.md, "Changes that would replace data").',
  ].join(' ');
}
