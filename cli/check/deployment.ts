/**
 * Where `check` finds the deployment it checks: a Pulumi stack's outputs (and its `signingSecrets`
 * config), or the local stack that `npm start` describes in its dev-stack file.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_TOPIC_PREFIX } from '../../functions/catalog.ts';
import { EMULATOR_PROJECT } from '../../functions/config.ts';
import { isRecord } from '../../functions/records.ts';
import type { CliContext } from '../context.ts';
import {
  PulumiCommandError,
  PulumiMissingError,
  readConfigValue,
  readSigningSecrets,
  readStackOutputs,
  type StackSelector,
} from '../pulumi.ts';

export interface Deployment {
  /** Where it was read from: `stack dev`, `the selected stack`, `local stack (<file>)`. */
  source: string;
  local: boolean;
  projectId: string;
  receiverUrl: string;
  prefix: string;
  /** The emulator of a local stack. */
  emulatorHost?: string;
  /** consumer -> route -> subscription id, from the stack outputs; undefined: found on the topics (local). */
  consumers?: Record<string, Record<string, string>>;
  /** The signing secrets the receiver should hold, newest first; undefined when they could not be read. */
  storedSecrets?: string[];
  /** Why `storedSecrets` is undefined. */
  storedSecretsProblem?: string;
  /** `projects/<p>/secrets/<id>` (cloud). */
  signingSecretId?: string;
}

export class DeploymentUnreadable extends Error {
  override name = 'DeploymentUnreadable';
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.fix = fix;
  }
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

export async function readStackDeployment(
  context: CliContext,
  selector: StackSelector,
  projectOverride: string | undefined,
): Promise<Deployment> {
  const source = selector.stack ? `stack ${selector.stack}` : 'the selected stack';
  let outputs: Record<string, unknown>;
  try {
    outputs = await readStackOutputs(context.pulumi, selector);
  } catch (error) {
    if (error instanceof PulumiMissingError)
      throw new DeploymentUnreadable(
        error.message,
        'install it (https://www.pulumi.com/docs/install/), or check the local stack with `--local`.',
      );
    if (error instanceof PulumiCommandError)
      throw new DeploymentUnreadable(
        error.message,
        'run this in the Pulumi project directory (or pass --cwd), with the stack selected (--stack).',
      );
    throw error;
  }
  const receiverUrl = outputs['receiverUrl'];
  if (typeof receiverUrl !== 'string' || receiverUrl === '')
    throw new DeploymentUnreadable(
      `${source} has no output receiverUrl: it has not been deployed.`,
      '`pulumi up` (or `check --before-deploy` to see what a first deploy will meet).',
    );
  const signingSecretId = typeof outputs['signingSecretId'] === 'string' ? outputs['signingSecretId'] : undefined;
  const projectId =
    projectOverride ??
    /^projects\/([^/]+)\/secrets\//.exec(signingSecretId ?? '')?.[1] ??
    (await readConfigValue(context.pulumi, selector, 'gcp:project').catch(() => undefined));
  if (projectId === undefined)
    throw new DeploymentUnreadable(`${source} does not say which project it is in.`, 'pass --project.');
  const consumers: Record<string, Record<string, string>> = {};
  if (isRecord(outputs['consumerSubscriptions']))
    for (const [consumer, routes] of Object.entries(outputs['consumerSubscriptions']))
      consumers[consumer] = stringRecord(routes);

  let storedSecrets: string[] | undefined;
  let storedSecretsProblem: string | undefined;
  try {
    storedSecrets = await readSigningSecrets(context.pulumi, selector);
  } catch (error) {
    if (!(error instanceof PulumiCommandError)) throw error;
    storedSecretsProblem = error.message;
  }
  return {
    source,
    local: false,
    projectId,
    receiverUrl,
    prefix: typeof outputs['topicPrefix'] === 'string' ? outputs['topicPrefix'] : DEFAULT_TOPIC_PREFIX,
    consumers,
    ...(storedSecrets === undefined ? {} : { storedSecrets }),
    ...(storedSecretsProblem === undefined ? {} : { storedSecretsProblem }),
    ...(signingSecretId === undefined ? {} : { signingSecretId }),
  };
}

/**
 * The local stack of `npm start`, from its dev-stack file: the receiver URL and the session's signing
 * secret, and (from the file, else the environment) the emulator, project and prefix.
 */
export function readLocalDeployment(
  file: string,
  context: CliContext,
  values: { project?: string | undefined; prefix?: string | undefined },
): Deployment {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DeploymentUnreadable(
      `cannot read the local stack's file ${file} (${why}).`,
      'start the local stack with `npm start` in another terminal.',
    );
  }
  const stack = isRecord(parsed) ? parsed : {};
  const text = (key: string): string | undefined =>
    typeof stack[key] === 'string' && stack[key] !== '' ? stack[key] : undefined;
  const receiverUrl = text('url');
  if (receiverUrl === undefined)
    throw new DeploymentUnreadable(
      `${file} names no receiver: the local stack is not running.`,
      'start it with `npm start` in another terminal.',
    );
  const emulatorHost = context.env['PUBSUB_EMULATOR_HOST']?.trim() || text('pubsubEmulatorHost');
  const secret = text('secret');
  return {
    source: `local stack (${file})`,
    local: true,
    projectId: values.project ?? (context.env['GOOGLE_CLOUD_PROJECT']?.trim() || text('projectId') || EMULATOR_PROJECT),
    receiverUrl,
    prefix: values.prefix ?? context.env['WEBHOOK_TOPIC_PREFIX'] ?? text('topicPrefix') ?? DEFAULT_TOPIC_PREFIX,
    ...(emulatorHost === undefined ? {} : { emulatorHost }),
    ...(secret === undefined
      ? { storedSecretsProblem: `${file} holds no signing secret (the receiver reads Secret Manager)` }
      : { storedSecrets: [secret] }),
  };
}
