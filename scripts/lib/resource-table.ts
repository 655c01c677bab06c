/**
 * docs/deploy.md's "What it creates" table, from the code that decides it: names from the plan
 * (infra/plan.ts, functions/topology.ts) under the default prefix, retention defaults from the setting
 * table, the APIs from API_NEEDS. `npm run docs` writes it; the generated-files test holds it equal.
 */
import { DEFAULT_TOPIC_PREFIX, ROUTE_KEYS, UNROUTED } from '../../functions/catalog.ts';
import { GENERATED_SUFFIXES, planRoute } from '../../functions/topology.ts';
import { API_NEEDS, planNames } from '../../infra/plan.ts';
import { SETTINGS } from '../../infra/setting-table.ts';
import { table, withRegions } from './markdown.ts';

const code = (text: string): string => `\`${text}\``;

/** `604800` -> `7 days`; other durations in the largest whole unit. */
function duration(seconds: number): string {
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size} ${unit}${seconds === size ? '' : 's'}`;
  }
  return `${seconds} s`;
}

export function resourceTable(prefix: string = DEFAULT_TOPIC_PREFIX): string {
  const names = planNames(prefix);
  const first = planRoute(prefix, ROUTE_KEYS[0]!);
  const unrouted = planRoute(prefix, UNROUTED);
  const deadLetter = `${prefix}-<type>-${GENERATED_SUFFIXES.deadLetter}`;
  const apis = API_NEEDS.map((need) => need.usedFor.split(':')[0]).join(', ');
  const rows = [
    [
      `Pub/Sub topic per event type + \`unrouted\` (${ROUTE_KEYS.length})`,
      `${code(first.topic)}, ..., ${code(unrouted.topic)}`,
      `Verified events; kept \`topicRetentionSeconds\` (default ${duration(SETTINGS.topicRetentionSeconds.default)}) ` +
        'so a new subscription can seek back',
    ],
    [
      'Dead-letter topic + its subscription, per route',
      code(deadLetter),
      'Events a consumer failed `maxDeliveryAttempts` times; kept `deadLetterRetentionSeconds` ' +
        `(default ${duration(SETTINGS.deadLetterRetentionSeconds.default)}) for inspection and replay`,
    ],
    [
      'Consumer subscriptions (from `subscriptions`)',
      code(`${prefix}-<type>-<consumer>`),
      'Push (OIDC) or pull, retry backoff, dead-letter policy',
    ],
    [
      'Secret Manager secret, one version per signing secret',
      code(names.secretId),
      'The `whsec_` keys; never in env vars or outputs',
    ],
    [
      'Secret Manager secret with one version (only with `jwtReceiverSecret`)',
      code(names.receiverSecretId),
      'The JWT receiver secret; the function reads it as the secret environment variable ' +
        '`WEBHOOK_JWT_RECEIVER_SECRET`, never a plain value',
    ],
    [
      'Cloud Run function (2nd gen), Node.js 22',
      code(names.functionName),
      'Verifies and publishes; public (`allUsers` run.invoker) unless `publicInvoker=none`',
    ],
    [
      'Source bucket + archive object',
      code('receiver-<content hash>.zip'),
      '`functions/` bundled into one `index.js` by esbuild, with a `package.json` and a `package-lock.json` cut from ' +
        "the repository's, so Cloud Build installs the exact dependency tree the tests ran; a code or dependency " +
        'change redeploys, nothing else does',
    ],
    ['Artifact Registry repository', code(names.repositoryId), 'Receiver images; a cleanup policy deletes old ones'],
    [
      'Service accounts',
      [names.runtimeServiceAccountId, names.buildServiceAccountId, `${prefix}-push-<consumer>`].map(code).join(', '),
      'Runtime (publisher on each topic, accessor on the secrets), build, push identities',
    ],
    [
      'IAM, all per resource',
      '',
      'Pub/Sub service agent: publisher on each dead-letter topic, subscriber on each consumer subscription',
    ],
    [
      'Log-based metrics, alert policies (consumer lag only with `subscriptions`), email channels, a dashboard',
      [names.deliveriesMetric, names.verificationFailuresMetric, names.publishLatencyMetric].map(code).join(', '),
      'Dead letters waiting, receiver 5xx, rejected-delivery spike, consumer lag; deliveries, failures, latency, ' +
        'dead-letter depth',
    ],
    [`Enabled APIs (\`enableApis\`, ${API_NEEDS.length})`, '', apis],
  ];
  return table(['Resource', 'Name', 'Purpose'], rows);
}

export function withResourceTable(document: string): string {
  return withRegions(document, { resources: () => resourceTable() }, 'docs/deploy.md');
}
