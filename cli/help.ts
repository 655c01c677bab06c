/**
 * Every command's help has the same shape: the usage line(s), what it does, each option explained, and
 * examples. Options shared by several commands are explained once, here; a command gives its own, and
 * `commandHelp` refuses (at load time, so every test notices) an option it accepts but does not explain.
 */

/** Explanations of the options several commands share. */
export const COMMON_OPTIONS: Record<string, string> = {
  'base-url': "--base-url URL    the WebhookService API (default GEMINI_API_BASE_URL, else Gemini's v1beta)",
  json: '--json            print JSON for scripts instead of text',
  stack: '--stack STACK     the Pulumi stack (default: the selected one)',
  cwd: '--cwd DIR         the Pulumi project directory (default: the current one)',
  'show-secret': '--show-secret     also print signing secrets (never printed otherwise)',
  project: '--project P       the Google Cloud project (default GOOGLE_CLOUD_PROJECT)',
  prefix: "--prefix P        the stack's topicPrefix (default WEBHOOK_TOPIC_PREFIX, else gemini)",
  help: '--help, -h        this help',
};

export interface HelpSpec {
  usage: string;
  about: string;
  /** The options the command parses (its parseArgs config); each needs an explanation. */
  options: Readonly<Record<string, unknown>>;
  /** Explanations of its own options, `--flag VALUE  what it does`. */
  explain?: Record<string, string>;
  examples: readonly string[];
}

export function commandHelp(spec: HelpSpec): string {
  const lines = [spec.usage, '', spec.about, '', 'Options:'];
  for (const name of [...Object.keys(spec.options), 'help']) {
    const text = spec.explain?.[name] ?? COMMON_OPTIONS[name];
    if (text === undefined) throw new Error(`help of "${spec.usage.split('\n')[0]}" does not explain --${name}`);
    lines.push(`  ${text}`);
  }
  lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`));
  return lines.join('\n');
}
