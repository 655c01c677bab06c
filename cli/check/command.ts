/**
 * `check`: proves a deployment works, hop by hop, and says for each hop that fails the one thing to do.
 * Against a deployed stack (its outputs, through the Pulumi CLI) or the local stack of `npm start`
 * (`--local`); `--before-deploy` instead reads what a first deploy will meet in the project.
 */
import { DEV_STACK_FILE } from '../../scripts/lib/dev-stack-file.ts';
import type { CliContext } from '../context.ts';
import { GeminiApiError } from '../gemini/client.ts';
import { googleRest, GoogleRestError } from '../google-rest.ts';
import { GEMINI_OPTIONS, geminiClient, parse, positiveInteger, stackSelector } from '../options.ts';
import { PulumiCommandError, PulumiMissingError, readConfigValue, type StackSelector } from '../pulumi.ts';
import { openPubSub } from '../pubsub.ts';
import { removeOrphans } from '../temporary-subscriptions.ts';
import { planApis } from '../../infra/plan.ts';
import { SETTINGS } from '../../infra/setting-table.ts';
import type { Settings } from '../../infra/settings.ts';
import { parseStackConfig, StackConfigError, type ConfigKey, type RawConfig } from '../../infra/stack-config.ts';
import { beforeDeployHops, type PlannedDeployment } from './before-deploy.ts';
import { DeploymentUnreadable, readLocalDeployment, readStackDeployment, type Deployment } from './deployment.ts';
import { failed, formatHop, passed, skipped, summary, type HopResult } from './hops.ts';
import { pingHop } from './ping.ts';
import { receiverHop, secretStoreHop } from './receiver-hops.ts';
import { consumerHops, discoverConsumers, iamHops } from './subscription-hops.ts';
import { judgeSecrets, judgeWebhook, requiredEvents, webhooksFor } from './webhook-hops.ts';

const DEFAULT_PING_TIMEOUT_SECONDS = 60;

export const USAGE = `usage: gemini-webhooks check [--stack STACK] [--cwd DIR] [--project P] [--json]
                             [--ping-timeout SECONDS] [--base-url URL]
       gemini-webhooks check --local [--dev-stack FILE] [--prefix P] [--project P] [--json]
       gemini-webhooks check --before-deploy [--stack STACK] [--cwd DIR] [--project P] [--json]

Checks every hop of a deployment and prints one line per hop: passed, failed with the one thing to
do, or skipped with why. Exits 0 only when nothing failed.
  1. the stack's outputs are readable (which stack, which project);
  2. the receiver answers a wrongly signed POST with 401 and a GET with 405;
  3. the signing secret in Secret Manager has an enabled version holding each stored secret;
  4. a Gemini webhook delivers to the receiver URL, is enabled and subscribed to the consumers' events;
  5. the stored secrets include the one that webhook signs with;
  6. a ping through WebhookService reaches the unrouted topic (from a temporary subscription, made
     before the ping and deleted after, also on Ctrl-C), and how long it took;
  7. each consumer's subscriptions exist and dead-letter to their route's dead-letter topic, and the
     Pub/Sub service agent may dead-letter them (IAM; skipped on the emulator, which has no IAM).

Options:
  --stack STACK          the Pulumi stack (default: the selected one)
  --cwd DIR              the Pulumi project directory (default: the current one)
  --project P            the Google Cloud project (default: from the stack)
  --local                check the local stack of \`npm start\` instead of a deployed one
  --dev-stack FILE       the local stack's file (default: .local/dev-stack.json; implies --local)
  --prefix P             topic prefix of the local stack (default: from its file, else gemini)
  --before-deploy        check the project for what a first \`pulumi up\` will meet: billing, the APIs,
                         and the org policies that break it (allowed member domains, ingress, locations)
  --ping-timeout SECONDS  how long to wait for the ping (default ${DEFAULT_PING_TIMEOUT_SECONDS})
  --base-url URL         the WebhookService API (default: GEMINI_API_BASE_URL, else Gemini's)
  --json                 print one JSON object: {ok, results: [{hop, status, detail, fix?, ms?}]}
  --help, -h             this help

Examples:
  GEMINI_API_KEY=<key> npx gemini-webhooks check
  npx gemini-webhooks check --before-deploy --stack prod
  npx gemini-webhooks check --local               # with \`npm start\` running in another terminal
  npx gemini-webhooks check --json | jq '.results[] | select(.status == "failed")'`;

export const OPTIONS = {
  ...GEMINI_OPTIONS,
  stack: { type: 'string' },
  cwd: { type: 'string' },
  project: { type: 'string' },
  prefix: { type: 'string' },
  local: { type: 'boolean' },
  'dev-stack': { type: 'string' },
  'before-deploy': { type: 'boolean' },
  'ping-timeout': { type: 'string' },
} as const;

/** Prints each result as it comes (or collects it for --json). */
class Report {
  readonly results: HopResult[] = [];
  readonly #context: CliContext;
  readonly #json: boolean;
  constructor(context: CliContext, json: boolean) {
    this.#context = context;
    this.#json = json;
  }
  add(...results: HopResult[]): void {
    for (const result of results) {
      this.results.push(result);
      if (!this.#json) this.#context.out(formatHop(result));
    }
  }
  finish(): number {
    const ok = !this.results.some((result) => result.status === 'failed');
    if (this.#json) this.#context.out(JSON.stringify({ ok, results: this.results }, null, 2));
    else this.#context.out(summary(this.results));
    return ok ? 0 : 1;
  }
}

export async function checkCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('check', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const report = new Report(context, values.json ?? false);
  const selector = stackSelector(values);
  if (values['before-deploy']) {
    await checkBeforeDeploy(report, selector, values.project, context);
    return report.finish();
  }
  const pingTimeoutMs =
    (positiveInteger(values['ping-timeout'], '--ping-timeout') ?? DEFAULT_PING_TIMEOUT_SECONDS) * 1000;
  const local = values.local === true || values['dev-stack'] !== undefined;
  let deployment: Deployment;
  try {
    deployment = local
      ? readLocalDeployment(values['dev-stack'] ?? DEV_STACK_FILE, context, values)
      : await readStackDeployment(context, selector, values.project);
  } catch (error) {
    if (!(error instanceof DeploymentUnreadable)) throw error;
    report.add(failed('stack', error.message, error.fix));
    report.add(skipped('everything else', "needs the deployment's outputs."));
    return report.finish();
  }
  report.add(
    passed(
      'stack',
      `${deployment.source}: project ${deployment.projectId}, receiver ${deployment.receiverUrl}, prefix ` +
        `${deployment.prefix}.`,
    ),
  );
  await checkDeployment(report, deployment, values, pingTimeoutMs, context);
  return report.finish();
}

async function checkDeployment(
  report: Report,
  deployment: Deployment,
  values: { 'base-url'?: string | undefined },
  pingTimeoutMs: number,
  context: CliContext,
): Promise<void> {
  report.add(await receiverHop(deployment.receiverUrl, context.fetch, context.now()));

  if (deployment.local)
    report.add(
      skipped(
        'secret store',
        'the local stack hands its secret to the receiver in WEBHOOK_SIGNING_SECRETS, not Secret Manager.',
      ),
    );
  else if (deployment.signingSecretId === undefined)
    report.add(skipped('secret store', 'the stack has no output signingSecretId.'));
  else {
    // Closed after the hop: an open gRPC channel would keep the process from exiting.
    const secretManager = await context.google.secretManager();
    try {
      report.add(await secretStoreHop(secretManager, deployment.signingSecretId, deployment.storedSecrets));
    } finally {
      await secretManager.close().catch(() => {});
    }
  }

  // Pub/Sub: the emulator of a local stack, the real service for a deployed one whatever the shell says.
  const env = { ...context.env };
  delete env['PUBSUB_EMULATOR_HOST'];
  if (deployment.emulatorHost !== undefined) env['PUBSUB_EMULATOR_HOST'] = deployment.emulatorHost;
  const handle = await openPubSub({ project: deployment.projectId }, { ...context, env });
  try {
    const orphans = await removeOrphans(handle, context.err);
    if (orphans.length > 0)
      context.err(
        `Deleted ${orphans.length} temporary subscription(s) an earlier command left behind: ${orphans.join(', ')}.`,
      );
    const consumers = deployment.consumers ?? (await discoverConsumers(handle, deployment.prefix));
    const consumerRoutes = new Set(Object.values(consumers).flatMap((routes) => Object.keys(routes)));

    const client = geminiClient(values, context);
    let webhookId: string | undefined;
    try {
      const candidates = webhooksFor(await client.list(), deployment.receiverUrl);
      const verdict = judgeWebhook(candidates, deployment.receiverUrl, requiredEvents(consumerRoutes));
      report.add(verdict);
      const webhook = candidates[0];
      if (webhook === undefined) report.add(skipped('signing secrets', 'no webhook to compare with.'));
      else if (deployment.storedSecrets === undefined)
        report.add(
          failed(
            'signing secrets',
            `cannot read the stored secrets: ${deployment.storedSecretsProblem}.`,
            'fix what the message says.',
          ),
        );
      else
        report.add(
          judgeSecrets(
            webhook,
            deployment.storedSecrets,
            context.now(),
            deployment.local ? 'restart `npm start` with WEBHOOK_SIGNING_SECRETS set to it' : '`pulumi up`',
          ),
        );
      if (webhook?.state === 'enabled') webhookId = webhook.id;
    } catch (error) {
      if (!(error instanceof GeminiApiError)) throw error;
      report.add(
        failed('webhook', error.message, 'set GEMINI_API_KEY to a key of the Gemini project that owns the webhook.'),
      );
      report.add(skipped('signing secrets', 'the webhooks could not be read.'));
    }

    if (webhookId === undefined) report.add(skipped('ping', 'no enabled webhook delivers to this receiver.'));
    else report.add(await pingHop(handle, deployment.prefix, client, webhookId, pingTimeoutMs, context));

    if (Object.keys(consumers).length === 0) {
      report.add(skipped('consumers', 'the deployment has no consumer subscriptions (stack setting `subscriptions`).'));
      return;
    }
    const { results, states } = await consumerHops(handle, consumers, deployment.prefix, deployment.local);
    report.add(...results);
    if (deployment.local) {
      for (const consumer of states.keys()) report.add(skipped(`iam ${consumer}`, 'the emulator has no IAM.'));
      return;
    }
    const { number, why } = await projectNumber(context, deployment.projectId);
    report.add(...(await iamHops(handle, states, deployment.prefix, number, why)));
  } finally {
    await handle.close();
  }
}

/** Resource Manager v1 `projects.get` (https://cloud.google.com/resource-manager/reference/rest/v1/projects/get). */
async function projectNumber(
  context: CliContext,
  project: string,
): Promise<{ number: string | undefined; why: string }> {
  try {
    const answer = await googleRest(
      context,
      'GET',
      `https://cloudresourcemanager.googleapis.com/v1/projects/${encodeURIComponent(project)}`,
    );
    const number = (answer.body as { projectNumber?: unknown } | undefined)?.projectNumber;
    if (answer.status === 200 && typeof number === 'string') return { number, why: '' };
    return {
      number: undefined,
      why: `cannot read the project number of ${project} (${answer.status}: ${answer.message ?? 'no details'}).`,
    };
  } catch (error) {
    if (!(error instanceof GoogleRestError)) throw error;
    return { number: undefined, why: error.message };
  }
}

/**
 * The stack settings that decide what a first deploy meets, read from the stack and resolved by the
 * program's own decoder (infra/stack-config.ts), so a setting means here what it means to `pulumi up`.
 */
const BEFORE_DEPLOY_KEYS: readonly ConfigKey[] = [
  'gcp:project',
  'gcp:region',
  'publicInvoker',
  'enableApis',
  'ingress',
  'secretReplication',
  'subscriptions',
  'alertEmails',
];

async function checkBeforeDeploy(
  report: Report,
  selector: StackSelector,
  projectOverride: string | undefined,
  context: CliContext,
): Promise<void> {
  const raw: RawConfig = {};
  let stackProblem: string | undefined;
  for (const key of BEFORE_DEPLOY_KEYS) {
    try {
      const value = await readConfigValue(context.pulumi, selector, key);
      if (value !== undefined) raw[key] = value;
    } catch (error) {
      if (!(error instanceof PulumiCommandError || error instanceof PulumiMissingError)) throw error;
      stackProblem = error.message;
      break;
    }
  }
  const project = projectOverride ?? raw['gcp:project'];
  if (project === undefined) {
    report.add(
      failed(
        'stack',
        stackProblem ?? 'the stack sets no gcp:project.',
        '`pulumi config set gcp:project <project>` (or pass --project).',
      ),
    );
    return;
  }
  let settings: Settings;
  try {
    settings = parseStackConfig({ ...(stackProblem === undefined ? raw : {}), 'gcp:project': project }).settings;
  } catch (error) {
    if (!(error instanceof StackConfigError)) throw error;
    const [problem, fix] = error.message.split('; fix: ');
    report.add(failed('stack', `${problem}.`, fix ?? 'correct the setting.'));
    return;
  }
  const replication = settings.secretReplication;
  const planned: PlannedDeployment = {
    project,
    region: settings.region,
    publicInvoker: settings.publicInvoker,
    enableApis: settings.enableApis,
    ingress: settings.ingress,
    secretLocations: replication.kind === 'automatic' ? undefined : replication.locations,
    apis: planApis(settings),
  };
  report.add(
    stackProblem === undefined
      ? passed(
          'stack',
          `project ${project}, region ${planned.region}, publicInvoker ${planned.publicInvoker}, ingress ` +
            `${raw.ingress ?? SETTINGS.ingress.default}.`,
        )
      : skipped('stack', `${stackProblem}; checking ${project} with the default settings.`),
  );
  report.add(...(await beforeDeployHops(context, planned)));
}
