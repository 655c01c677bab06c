/**
 * Rotation under mocks: the version resource of a secret is named by its fingerprint, so a
 * rotation (new secret first, old one kept, later removed) only ever adds or removes versions and
 * never replaces one; removal disables rather than destroys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSigningSecrets } from '../../infra/settings.ts';
import { MODEL_APIS } from './gcp-model.ts';
import { installMocks, ofType, registered, SECRET_NEW, SECRET_NEXT, SECRET_OLD } from './mocks.ts';

// The secret on its own, in a project whose APIs are on: rotation is the subject here, not enablement.
await installMocks({ enabledApis: MODEL_APIS });
const { SigningSecrets } = await import('../../infra/components/signing-secrets.ts');

function deploy(name: string, secrets: string[]): InstanceType<typeof SigningSecrets> {
  const parsed = resolveSigningSecrets(secrets);
  return new SigningSecrets(name, {
    project: 'acme-webhooks',
    secretId: `${name}-secret`,
    secrets: parsed.map((s) => ({ id: s.fingerprint, value: s.reveal() })),
  });
}

describe('rotation', () => {
  it('keeps version identities stable across the three steps of a rotation', async () => {
    const before = deploy('before', [SECRET_NEW, SECRET_OLD]);
    const during = deploy('during', [SECRET_NEXT, SECRET_NEW, SECRET_OLD]);
    const afterwards = deploy('after', [SECRET_NEXT, SECRET_NEW]);
    await registered(...[before, during, afterwards].flatMap((c) => [c.secret, ...c.versions.values()]));
    const ids = (c: InstanceType<typeof SigningSecrets>): string[] => [...c.versions.keys()];
    const [next, current, old] = resolveSigningSecrets([SECRET_NEXT, SECRET_NEW, SECRET_OLD]).map((s) => s.fingerprint);
    assert.deepEqual(ids(before), [current, old]);
    assert.deepEqual(ids(during), [next, current, old], 'adding a secret adds one version and keeps the others');
    assert.deepEqual(ids(afterwards), [next, current], 'removing a secret removes exactly its version');
    const versions = ofType('gcp:secretmanager/secretVersion:SecretVersion');
    assert.deepEqual(
      versions
        .filter((v) => v.name.startsWith('during-'))
        .map((v) => v.name)
        .sort(),
      [next, current, old].map((f) => `during-${f}`).sort(),
    );
    assert.ok(
      versions.every((v) => v.inputs.deletionPolicy === 'DISABLE'),
      'a removed version is disabled, not destroyed',
    );
  });

  it('creates older secrets first so that the newest secret gets the highest version', async () => {
    const c = deploy('order', [SECRET_NEXT, SECRET_NEW, SECRET_OLD]);
    await registered(...c.versions.values());
    const versions = ofType('gcp:secretmanager/secretVersion:SecretVersion').filter((v) => v.name.startsWith('order-'));
    const [newest, middle, oldest] = [...c.versions.keys()].map((id) =>
      versions.find((v) => v.name === `order-${id}`)!,
    );
    const urnOf = async (id: string): Promise<string> => new Promise((done) => c.versions.get(id)!.urn.apply(done));
    const [middleUrn, oldestUrn] = await Promise.all([
      urnOf([...c.versions.keys()][1]!),
      urnOf([...c.versions.keys()][2]!),
    ]);
    assert.ok(newest!.dependencies.includes(middleUrn));
    assert.ok(middle!.dependencies.includes(oldestUrn));
    assert.ok(!oldest!.dependencies.some((d) => d.includes('SecretVersion')));
  });

  it('accepts an empty list: the secret exists before Gemini issues the first key', async () => {
    const c = deploy('empty', []);
    await registered(c.secret);
    assert.equal(c.versions.size, 0);
  });
});
