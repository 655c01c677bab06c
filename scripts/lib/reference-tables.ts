/**
 * The reference tables of docs/configuration.md, generated from the code that defines what they list:
 * the stack settings from the setting table (infra/setting-table.ts, through the declarations it
 * gives Pulumi.yaml), the receiver's environment variables from functions/config.ts. `npm run docs`
 * writes them between their markers; a unit test fails when the document and the code disagree.
 */
import path from 'node:path';
import { RECEIVER_ENVIRONMENT, RECEIVER_TUNABLES } from '../../functions/config.ts';
import { describeSetting, SETTINGS, stackKeyOf, type SettingKey } from '../../infra/setting-table.ts';
import { table, withRegions } from './markdown.ts';
import { configDeclaration } from './setting-files.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CONFIGURATION_DOC = path.join(REPO_ROOT, 'docs', 'configuration.md');

function shownDefault(value: unknown): string {
  if (value === undefined) return 'required';
  if (value === '') return 'unset';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

/** Every stack setting, in the setting table's order, as Pulumi.yaml declares it (`gcp:*` as the provider does). */
function stackSettingsTable(): string {
  const rows = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
    const declared = configDeclaration(key);
    const setting = SETTINGS[key];
    if (declared !== undefined) {
      return [`\`${key}\``, declared.type, shownDefault(declared.default), declared.description];
    }
    const fallback = 'default' in setting ? setting.default : undefined;
    return [`\`${stackKeyOf(key)}\``, 'string', shownDefault(fallback), describeSetting(setting)];
  });
  return table(['setting', 'type', 'default', 'meaning'], rows);
}

/** Every environment variable the receiver reads. */
function receiverEnvironmentTable(): string {
  const rows = [
    ...Object.entries(RECEIVER_ENVIRONMENT).map(([name, variable]) => [
      `\`${name}\``,
      variable.default,
      variable.description,
    ]),
    ...Object.values(RECEIVER_TUNABLES).map((tunable) => [
      `\`${tunable.env}\``,
      `\`${tunable.default}\``,
      `${tunable.description} (${tunable.min}-${tunable.max})`,
    ]),
  ];
  return table(['variable', 'default', 'meaning'], rows);
}

const GENERATED_TABLES: Record<string, () => string> = {
  'stack-settings': stackSettingsTable,
  'receiver-environment': receiverEnvironmentTable,
};

/** docs/configuration.md with its tables regenerated. */
export function withGeneratedTables(document: string): string {
  return withRegions(document, GENERATED_TABLES, 'docs/configuration.md');
}
