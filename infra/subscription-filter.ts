/**
 * A Pub/Sub subscription's filter is fixed when the subscription is created
 * (https://cloud.google.com/pubsub/docs/subscription-message-filter): the Google provider marks
 * `filter` ForceNew, so a changed filter replaces the subscription, and since our subscriptions
 * have explicit names the replacement deletes the old one first, with every unacknowledged
 * message in it. The program refuses that change instead; this is the sentence it refuses with.
 */

export interface FilterChange {
  consumer: string;
  /** The consumer's subscriptions whose deployed filter differs from the configured one. */
  subscriptions: readonly string[];
  /** The filter they were created with ('' for none). */
  deployed: string;
  /** The filter the stack config asks for now ('' for none). */
  configured: string;
}

function describe(filter: string): string {
  return filter === '' ? 'no filter' : `filter ${JSON.stringify(filter)}`;
}

/** One line: which subscriptions, what would be lost, and the ways forward. */
export function filterChangeRefusal(change: FilterChange): string {
  const [first, ...others] = change.subscriptions;
  const which =
    others.length === 0
      ? `subscription ${first}`
      : `subscription ${first} (and ${others.length} more of its subscriptions)`;
  return [
    `Consumer "${change.consumer}": ${which} was created with ${describe(change.deployed)} ` +
      `and the config now asks for ${describe(change.configured)};`,
    'Pub/Sub cannot change a filter, ' +
      'so applying it would delete the subscriptions and every unacknowledged message in them.',
    'Keep the old filter, or add the new filter as a new consumer, let the old one drain, then remove it;',
    'to accept losing the backlog, remove the consumer in one `pulumi up` and add it back in the next ' +
      '(docs/first-deploy.md, "Changing a consumer\'s filter").',
  ].join(' ');
}

/** The refusal for a consumer's subscriptions, or undefined when every deployed filter is the configured one. */
export function filterChangeProblem(
  consumer: string,
  configured: string,
  deployed: readonly { subscription: string; filter: string }[],
): string | undefined {
  const changed = deployed.filter((d) => d.filter !== configured);
  if (changed.length === 0) return undefined;
  return filterChangeRefusal({
    consumer,
    subscriptions: changed.map((d) => d.subscription),
    deployed: changed[0]!.filter,
    configured,
  });
}
