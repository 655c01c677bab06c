/**
 * Errors the CLI reports as one line. Anything else that escapes a command is a bug and is printed
 * with its stack.
 */

/** A failure the user can act on; `exitCode` 1 unless said otherwise. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Wrong or missing arguments (exit code 2, like most CLIs). */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * Why a `fetch` failed, in a few words: undici puts the network error (`ECONNREFUSED`,
 * `ENOTFOUND`, ...) in `cause` and says only "fetch failed" itself. A timeout (an AbortSignal's
 * `TimeoutError`) is left to the caller, who knows how long it waited.
 */
export function fetchFailureCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
