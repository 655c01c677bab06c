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
