/**
 * Every generated file and region holds what the code generates now: after a change to the setting
 * table, the event catalog or the receiver's config, `npm run docs` must have been run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SETTING_KEYS } from '../../infra/setting-table.ts';
import { absolute, GENERATED_FILES } from '../../scripts/lib/generated-files.ts';
import { configDeclaration } from '../../scripts/lib/setting-files.ts';

describe('generated files', () => {
  for (const file of GENERATED_FILES) {
    it(`${file.path} is up to date (run \`npm run docs\` if not)`, () => {
      assert.ok(existsSync(absolute(file)), `${file.path} is missing: run npm run docs`);
      const current = readFileSync(absolute(file), 'utf8');
      assert.ok(current === file.generate(current), `${file.path} is out of date: run npm run docs`);
    });
  }

  it("Pulumi.yaml declares, as YAML reads it, exactly each setting's declaration", () => {
    const project = parse(readFileSync(absolute({ path: 'Pulumi.yaml', generate: String }), 'utf8')) as {
      config: Record<string, unknown>;
    };
    const expected = Object.fromEntries(
      SETTING_KEYS.flatMap((key) => {
        const declaration = configDeclaration(key);
        return declaration === undefined ? [] : [[key, declaration]];
      }),
    );
    assert.deepEqual(project.config, JSON.parse(JSON.stringify(expected)));
  });
});
