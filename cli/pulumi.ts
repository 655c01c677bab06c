/**
 * The stack's `signingSecrets` config (a secret JSON array of `whsec_` strings, newest first) and
 * its outputs, through the Pulumi CLI. The CLI runs behind an injectable runner; when it is not
 * installed, or refuses, the caller prints the exact command for the user instead.
 *
 * The new value is handed to `pulumi config set` on standard input (the CLI reads the value from
 * stdin when none is given on the command line), so a secret never shows up in a process list.
 */
import { spawn } from 'node:child_process';

export const SIGNING_SECRETS_KEY = 'signingSecrets';
/** Stack outputs that may hold the receiver URL, in order of preference. */
export const RECEIVER_URL_OUTPUTS = ['receiverUrl', 'url'] as const;

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PulumiRunner {
  /** Runs `pulumi <args>`; throws PulumiMissingError when the executable is not found. */
  run(args: readonly string[], options?: { input?: string }): Promise<PulumiResult>;
}

export class PulumiMissingError extends Error {
  override name = 'PulumiMissingError';
}

/** `pulumi` refused or failed; the message is Pulumi's own last line, never a secret. */
export class PulumiCommandError extends Error {
  override name = 'PulumiCommandError';
}

export function createPulumiRunner(
  options: { env?: Readonly<Record<string, string | undefined>>; command?: string } = {},
): PulumiRunner {
  const command = options.command ?? 'pulumi';
  return {
    run: (args, runOptions = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn(command, args, {
          env: { ...(options.env ?? process.env), PULUMI_SKIP_UPDATE_CHECK: 'true' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('error', (error: NodeJS.ErrnoException) => {
          reject(
            error.code === 'ENOENT'
              ? new PulumiMissingError(`The Pulumi CLI (\`${command}\`) is not installed or not on PATH.`)
              : error,
          );
        });
        child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.on('error', () => {}); // the child may exit without reading its input
        child.stdin.end(runOptions.input ?? '');
      }),
  };
}

/** Which stack (and project directory) the `pulumi` calls address. */
export interface StackSelector {
  stack?: string | undefined;
  cwd?: string | undefined;
}

function selectorArgs(selector: StackSelector): string[] {
  const args: string[] = [];
  if (selector.cwd) args.push('--cwd', selector.cwd);
  if (selector.stack) args.push('--stack', selector.stack);
  return args;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1)
      ?.trim() ?? ''
  );
}

/** Parses the stored value; a broken value is an error that names the key, never its content. */
export function parseStoredSecrets(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PulumiCommandError(
      `The stack config \`${SIGNING_SECRETS_KEY}\` is not a JSON array of strings; fix it before rotating.`,
    );
  }
  if (!Array.isArray(parsed) || !parsed.every((entry) => typeof entry === 'string')) {
    throw new PulumiCommandError(
      `The stack config \`${SIGNING_SECRETS_KEY}\` is not a JSON array of strings; fix it before rotating.`,
    );
  }
  return parsed;
}

/** The stored secrets, newest first; empty when the key is not set yet. */
export async function readSigningSecrets(runner: PulumiRunner, selector: StackSelector): Promise<string[]> {
  const result = await runner.run(['config', 'get', SIGNING_SECRETS_KEY, '--json', ...selectorArgs(selector)]);
  if (result.code !== 0) {
    if (/configuration key .* not found/i.test(result.stderr)) return [];
    throw new PulumiCommandError(
      `\`pulumi config get ${SIGNING_SECRETS_KEY}\` failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`,
    );
  }
  let answer: { value?: unknown; objectValue?: unknown };
  try {
    answer = JSON.parse(result.stdout) as typeof answer;
  } catch {
    throw new PulumiCommandError(
      `\`pulumi config get ${SIGNING_SECRETS_KEY} --json\` printed something that is not JSON.`,
    );
  }
  if (typeof answer.value === 'string') return answer.value.trim() === '' ? [] : parseStoredSecrets(answer.value);
  if (answer.objectValue !== undefined) return parseStoredSecrets(JSON.stringify(answer.objectValue));
  return [];
}

export async function writeSigningSecrets(
  runner: PulumiRunner,
  selector: StackSelector,
  secrets: readonly string[],
): Promise<void> {
  const result = await runner.run(
    ['config', 'set', SIGNING_SECRETS_KEY, '--secret', '--non-interactive', ...selectorArgs(selector)],
    {
      input: JSON.stringify(secrets),
    },
  );
  if (result.code !== 0) {
    throw new PulumiCommandError(
      `\`pulumi config set --secret ${SIGNING_SECRETS_KEY}\` failed: ` +
        `${lastLine(result.stderr) || `exit code ${result.code}`}`,
    );
  }
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\-./:=@]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The command a user runs by hand when this tool cannot (the only place a secret is printed). */
export function setSecretsCommand(selector: StackSelector, secrets: readonly string[]): string {
  return [
    'pulumi',
    'config',
    'set',
    '--secret',
    SIGNING_SECRETS_KEY,
    ...selectorArgs(selector),
    JSON.stringify(secrets),
  ]
    .map(shellQuote)
    .join(' ');
}

/** The same, with the value read from a file on standard input: no secret on the screen or in argv. */
export function setSecretsFromFileCommand(selector: StackSelector, file: string): string {
  return [
    ...['pulumi', 'config', 'set', '--secret', SIGNING_SECRETS_KEY, ...selectorArgs(selector)].map(shellQuote),
    '<',
    shellQuote(file),
  ].join(' ');
}

/**
 * Every output of the stack, for `check`; a failure is a PulumiCommandError with Pulumi's own last line
 * (no stack selected, not logged in, nothing deployed yet).
 */
export async function readStackOutputs(
  runner: PulumiRunner,
  selector: StackSelector,
): Promise<Record<string, unknown>> {
  const result = await runner.run(['stack', 'output', '--json', ...selectorArgs(selector)]);
  if (result.code !== 0) {
    throw new PulumiCommandError(
      `\`pulumi stack output\` failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`,
    );
  }
  try {
    const outputs = JSON.parse(result.stdout) as unknown;
    if (outputs !== null && typeof outputs === 'object' && !Array.isArray(outputs))
      return outputs as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new PulumiCommandError('`pulumi stack output --json` printed something that is not a JSON object.');
}

/** A plain (non-secret) config value of the stack, or undefined when it is not set. */
export async function readConfigValue(
  runner: PulumiRunner,
  selector: StackSelector,
  key: string,
): Promise<string | undefined> {
  const result = await runner.run(['config', 'get', key, '--json', ...selectorArgs(selector)]);
  if (result.code !== 0) {
    if (/configuration key .* not found/i.test(result.stderr)) return undefined;
    throw new PulumiCommandError(
      `\`pulumi config get ${key}\` failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`,
    );
  }
  try {
    const answer = JSON.parse(result.stdout) as { value?: unknown };
    return typeof answer.value === 'string' ? answer.value : undefined;
  } catch {
    throw new PulumiCommandError(`\`pulumi config get ${key} --json\` printed something that is not JSON.`);
  }
}

/** The receiver URL from the stack outputs, or undefined when there is no stack or no such output. */
export async function readReceiverUrl(runner: PulumiRunner, selector: StackSelector): Promise<string | undefined> {
  let result: PulumiResult;
  try {
    result = await runner.run(['stack', 'output', '--json', ...selectorArgs(selector)]);
  } catch (error) {
    if (error instanceof PulumiMissingError) return undefined;
    throw error;
  }
  if (result.code !== 0) return undefined;
  try {
    const outputs = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const key of RECEIVER_URL_OUTPUTS) {
      const value = outputs[key];
      if (typeof value === 'string' && value !== '') return value;
    }
  } catch {
    // no usable outputs
  }
  return undefined;
}
