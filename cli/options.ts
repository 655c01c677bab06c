/**
 * Argument parsing shared by the subcommands (node:util parseArgs, strict) and the settings every
 * command derives from flags and environment: the Gemini client, the Pulumi stack, Pub/Sub.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_TOPIC_PREFIX, ROUTE_KEYS, topicPrefixProblem, type RouteKey } from '../functions/catalog.ts';
import { planRoutes, type RoutePlan } from '../functions/topology.ts';
import type { CliContext } from './context.ts';
import { UsageError } from './errors.ts';
import { DEFAULT_GEMINI_API_BASE_URL, WebhookServiceClient } from './gemini/client.ts';
import type { StackSelector } from './pulumi.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export const GEMINI_OPTIONS = {
  'base-url': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

export const STACK_OPTIONS = {
  stack: { type: 'string' },
  cwd: { type: 'string' },
  'show-secret': { type: 'boolean' },
} as const satisfies Options;

export const PUBSUB_OPTIONS = {
  project: { type: 'string' },
  prefix: { type: 'string' },
} as const satisfies Options;

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;

/** Strict parsing; unknown flags and bad values become a UsageError naming the command. */
export function parse<const O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, ...HELP }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(
      `${command}: ${(error as Error).message.replace(/\. To specify a positional.*$/s, '')} (see \`gemini-webhooks ${command} --help\`)`,
    );
  }
}

export function geminiClient(values: { 'base-url'?: string | undefined }, context: CliContext): WebhookServiceClient {
  return new WebhookServiceClient({
    apiKey: context.env['GEMINI_API_KEY'],
    baseUrl: values['base-url'] ?? context.env['GEMINI_API_BASE_URL'] ?? DEFAULT_GEMINI_API_BASE_URL,
    sleep: context.sleep,
  });
}

export function stackSelector(values: { stack?: string | undefined; cwd?: string | undefined }): StackSelector {
  return { stack: values.stack, cwd: values.cwd };
}

export function topicPrefix(values: { prefix?: string | undefined }, context: CliContext): string {
  const prefix = values.prefix ?? context.env['WEBHOOK_TOPIC_PREFIX'] ?? DEFAULT_TOPIC_PREFIX;
  const problem = topicPrefixProblem(prefix);
  if (problem !== undefined) throw new UsageError(`--prefix (or WEBHOOK_TOPIC_PREFIX) ${problem}.`);
  return prefix;
}

export function routeOption(value: string | undefined, flag = '--type'): RouteKey | undefined {
  if (value === undefined) return undefined;
  if (!(ROUTE_KEYS as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${ROUTE_KEYS.join(', ')} (got ${JSON.stringify(value)}).`);
  }
  return value as RouteKey;
}

/**
 * A list option, given the one way every command takes lists: repeated (`--type a --type b`), each
 * value possibly comma-separated (`--type a,b`).
 */
export function listOption(values: readonly string[] | undefined): string[] {
  return [
    ...new Set(
      (values ?? [])
        .flatMap((value) => value.split(','))
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    ),
  ];
}

/** `--type T` given any number of times: those routes, in catalog order; all of them when none is given. */
export function selectRoutes(prefix: string, types: readonly string[] | undefined): RoutePlan[] {
  const wanted = new Set(listOption(types).map((type) => routeOption(type)));
  return planRoutes(prefix).filter((plan) => wanted.size === 0 || wanted.has(plan.route));
}

export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value))
    throw new UsageError(`${flag} must be a whole number of at least 1 (got ${JSON.stringify(value)}).`);
  return Number(value);
}
