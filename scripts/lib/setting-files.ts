/**
 * The files generated from the setting table (infra/setting-table.ts): the component's argument
 * interface (infra/args.ts, whose JSDoc Pulumi's schema inference turns into the package's input
 * descriptions) and the `config` block of Pulumi.yaml. Pure text in, text out; `npm run docs` writes
 * them and test/unit/generated-files.test.ts holds them equal.
 */
import { parse, stringify } from 'yaml';
import { describeSetting, SETTINGS, type SettingDeclaration, type SettingKey } from '../../infra/setting-table.ts';

const WIDTH = 110;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The default as prose: `` `us-central1` ``, `10`, `false`, `none`, `` `["static"]` ``. */
function defaultProse(declaration: SettingDeclaration): string | undefined {
  if (!('default' in declaration) || declaration.default === undefined) return undefined;
  const value = declaration.default;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `\`${JSON.stringify(value)}\``;
  return typeof value === 'string' ? `\`${value}\`` : String(value);
}

function jsDoc(text: string, indent: string): string {
  const single = `${indent}/** ${text} */`;
  if (single.length <= 120) return single;
  const body = wrap(text, WIDTH - indent.length).map((line) => `${indent} * ${line}`);
  return [`${indent}/**`, ...body, `${indent} */`].join('\n');
}

/** The argument's JSDoc text: its meaning with bounds, then its default. */
export function argumentDoc(key: SettingKey): string {
  const declaration: SettingDeclaration = SETTINGS[key];
  const fallback = defaultProse(declaration);
  const text = describeSetting(declaration);
  return fallback === undefined ? text : `${text} Default ${fallback}.`;
}

/** infra/args.ts: GeminiWebhooksArgs, one documented property per setting. */
export function argsFile(): string {
  const properties = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
    const declaration: SettingDeclaration = SETTINGS[key];
    const optional = 'required' in declaration && declaration.required === true ? '' : '?';
    return `${jsDoc(argumentDoc(key), '  ')}\n  ${key}${optional}: ${declaration.argType};`;
  });
  return [
    '// Generated from infra/setting-table.ts by `npm run docs`: edit the table, not this file.',
    "import type { Consumer } from './consumer.ts';",
    '',
    '/**',
    ' * Everything a deployment can be told. Only `project` is required; every other setting has the default',
    " * documented on it (the same as this project's `Pulumi.yaml`).",
    ' */',
    'export interface GeminiWebhooksArgs {',
    properties.join('\n'),
    '}',
    '',
  ].join('\n');
}

/** What Pulumi.yaml declares for one setting. */
export interface ConfigDeclaration {
  type: 'string' | 'integer' | 'boolean' | 'array';
  items?: { type: 'string' };
  default: unknown;
  description: string;
}

/** The declaration in Pulumi.yaml of a setting in this project's namespace; undefined for `gcp:*` ones. */
export function configDeclaration(key: SettingKey): ConfigDeclaration | undefined {
  const declaration: SettingDeclaration = SETTINGS[key];
  if (declaration.stackKey !== undefined) return undefined;
  const description = [describeSetting(declaration), declaration.stackNote].filter((t) => t !== undefined).join(' ');
  const fallback = 'default' in declaration ? declaration.default : undefined;
  switch (declaration.kind) {
    case 'integer':
      return { type: 'integer', default: declaration.default, description };
    case 'boolean':
      return { type: 'boolean', default: declaration.default, description };
    case 'array':
      return { type: 'array', items: { type: 'string' }, default: [...declaration.default], description };
    case 'json':
      return { type: 'string', default: JSON.stringify(declaration.default), description };
    case 'list':
      return { type: 'string', default: declaration.default.join(','), description };
    default:
      // A string with no default is declared blank: Pulumi would otherwise demand a value on every stack.
      return { type: 'string', default: typeof fallback === 'string' ? fallback : '', description };
  }
}

function readsBackAs(yaml: string, text: string): boolean {
  try {
    return (parse(yaml) as { d: unknown }).d === text;
  } catch {
    return false;
  }
}

/** Pulumi.yaml's `config` block, every setting of this project's namespace in table order. */
export function configBlock(): string {
  const lines = ['config:'];
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const declaration = configDeclaration(key);
    if (declaration === undefined) continue;
    const note = (SETTINGS[key] as SettingDeclaration).declarationNote;
    if (note !== undefined) lines.push(...note.split('\n').map((line) => `  # ${line}`));
    lines.push(`  ${key}:`, `    type: ${declaration.type}`);
    if (declaration.items !== undefined) lines.push('    items:', `      type: ${declaration.items.type}`);
    lines.push(`    default: ${stringify(declaration.default, { singleQuote: true }).trim()}`);
    const description = wrap(declaration.description, WIDTH - 6);
    const [only] = description;
    // One line stays a plain scalar where YAML reads it back unchanged.
    if (
      description.length === 1 &&
      only !== undefined &&
      `    description: ${only}`.length <= 120 &&
      readsBackAs(`d: ${only}`, only)
    ) {
      lines.push(`    description: ${only}`);
    } else {
      lines.push('    description: >-', ...description.map((line) => `      ${line}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Pulumi.yaml with its `config` block (the rest of the file) replaced by the generated one. */
export function withConfigBlock(pulumiYaml: string): string {
  const at = pulumiYaml.search(/^config:/m);
  if (at === -1) throw new Error('Pulumi.yaml has no top-level `config:` block');
  return pulumiYaml.slice(0, at) + configBlock();
}
