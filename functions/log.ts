/**
 * Structured logs for Cloud Logging: one JSON object per line, `severity` and `message` where
 * Cloud Logging looks for them. Callers pass facts (ids, outcomes, timings), never secrets or
 * bodies; long strings are cut so a hostile header cannot flood the logs.
 */

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Record<string, string | number | boolean | undefined>;
export type Logger = (severity: Severity, message: string, fields?: LogFields) => void;

const MAX_FIELD_LENGTH = 200;

/** Every log line of the receiver carries it; the deployment's log-based metrics select on it. */
export const LOG_COMPONENT = 'gemini-webhooks-receiver';

function clip(value: string | number | boolean | undefined): string | number | boolean | undefined {
  return typeof value === 'string' && value.length > MAX_FIELD_LENGTH ? `${value.slice(0, MAX_FIELD_LENGTH)}…` : value;
}

export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (severity, message, fields = {}) => {
    const entry: Record<string, unknown> = { severity, message, component: LOG_COMPONENT };
    for (const [key, value] of Object.entries(fields)) {
      const clipped = clip(value);
      if (clipped !== undefined) entry[key] = clipped;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
}
