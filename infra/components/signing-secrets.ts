import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Replacement } from '../replacement.ts';
import type { SecretReplication } from '../settings.ts';
import { inheritedDependsOn } from './options.ts';
import { deployedChange, guardedOptions } from './replacement-guard.ts';

/** One secret to store: a stable non-secret identity and the value (kept secret by this component). */
export interface SigningSecretInput {
  /**
   * Stable identity of the secret, e.g. its fingerprint. It names the version's resource, so the
   * same secret maps to the same version wherever it sits in the list and across rotations.
   * Must not be (or reveal) the secret itself: resource names are stored in plain text.
   */
  id: string;
  /** The `whsec_...` value. Wrapped in `pulumi.secret` before it reaches any resource. */
  value: pulumi.Input<string>;
}

/** A Secret Manager secret of this deployment: where it lives, where it is kept, and the stack's guards. */
export interface GuardedSecretArgs {
  project: pulumi.Input<string>;
  /** Secret Manager secret id, e.g. `gemini-webhook-signing-secrets`. */
  secretId: string;
  /**
   * Where Secret Manager keeps the secret: automatic (global), or user-managed replicas in given regions
   * for organisations whose `gcp.resourceLocations` policy forbids global. Fixed once the secret exists.
   * Default automatic.
   */
  replication?: SecretReplication;
  /** Let a change replace the secret (a new id, project or replication). Default false: refused. */
  allowReplacement?: boolean;
  /** Protect the secret from deletion (Pulumi's `protect`). Default true. */
  protectData?: boolean;
  /** Labels for the secret. */
  labels?: Record<string, string>;
}

export interface SigningSecretsArgs extends GuardedSecretArgs {
  /** Newest first. Empty is allowed: the first deploy precedes the first secret. */
  secrets: readonly SigningSecretInput[];
}

/** The Secret Manager API's replication policy for a setting. */
export function replicationPolicy(replication: SecretReplication): gcp.types.input.secretmanager.SecretReplication {
  return replication.kind === 'automatic'
    ? { auto: {} }
    : { userManaged: { replicas: replication.locations.map((location) => ({ location })) } };
}

/**
 * A secret as this deployment keeps every one: replicated as the stack says, protected from deletion
 * and refused replacement unless the stack allows it; with the replacement its config would need.
 */
export function guardedSecret(
  name: string,
  args: GuardedSecretArgs,
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
): { secret: gcp.secretmanager.Secret; replacement: pulumi.Output<Replacement | undefined> } {
  const replication = replicationPolicy(args.replication ?? { kind: 'automatic' });
  const secret = new gcp.secretmanager.Secret(
    name,
    { project: args.project, secretId: args.secretId, replication, labels: { ...args.labels } },
    {
      parent,
      dependsOn: inheritedDependsOn(opts),
      ...guardedOptions('secret', {
        allowReplacement: args.allowReplacement ?? false,
        protect: args.protectData ?? true,
      }),
    },
  );
  const replacement = deployedChange('secret', secret, {
    project: args.project,
    secretId: args.secretId,
    replication,
  });
  return { secret, replacement };
}

/**
 * The Secret Manager secret the receiver reads its Standard Webhooks keys from: one version per
 * configured secret. A version leaves the config -> its resource is deleted with
 * `deletionPolicy: DISABLE`, so Secret Manager keeps it, disabled (the receiver only reads enabled
 * versions). Rotation is therefore a config change and the receiver needs no code change.
 */
export class SigningSecrets extends pulumi.ComponentResource {
  public readonly secret: gcp.secretmanager.Secret;
  /** Version resources keyed by the secret's stable id, newest first. */
  public readonly versions: ReadonlyMap<string, gcp.secretmanager.SecretVersion>;
  /** `projects/<project>/secrets/<id>`: the receiver's `WEBHOOK_SIGNING_SECRETS_SECRET`. */
  public readonly secretResourceName: pulumi.Output<string>;
  /** The replacement the config would need (none on a fresh deploy). */
  public readonly replacement: pulumi.Output<Replacement | undefined>;

  constructor(name: string, args: SigningSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:SigningSecrets', name, {}, opts);
    const ids = new Set<string>();
    for (const s of args.secrets) {
      if (!/^[a-z0-9][a-z0-9-]{3,40}$/.test(s.id))
        throw new Error(
          `SigningSecrets ${name}: secret id ${JSON.stringify(s.id)} must be 4-41 lowercase letters, digits or '-'`,
        );
      if (ids.has(s.id)) throw new Error(`SigningSecrets ${name}: secret id ${s.id} is listed twice`);
      ids.add(s.id);
    }

    ({ secret: this.secret, replacement: this.replacement } = guardedSecret(name, args, this, opts));

    // Create oldest first, so that on a first deploy Secret Manager's version numbers follow the
    // configured order (newest = highest). A secret added later is created after the ones that
    // already exist, and so is the newest version too.
    const versions = new Map<string, gcp.secretmanager.SecretVersion>();
    let older: gcp.secretmanager.SecretVersion | undefined;
    for (const s of [...args.secrets].reverse()) {
      const version = new gcp.secretmanager.SecretVersion(
        `${name}-${s.id}`,
        {
          secret: this.secret.id,
          // `secretData`, a Pulumi secret, not the write-only `secretDataWo`: Pulumi still writes a
          // write-only input's value into the state's inputs (encrypted, as a secret) and can no
          // longer see when it changes (https://www.pulumi.com/docs/iac/concepts/secrets/write-only-fields/,
          // https://github.com/pulumi/pulumi-terraform-bridge/issues/3201, open). So the value would
          // be in the state either way, encrypted; `secretData` at least keeps the diff.
          secretData: pulumi.secret(s.value),
          enabled: true,
          // Removing the secret from config disables this version instead of destroying it.
          deletionPolicy: 'DISABLE',
        },
        { parent: this, dependsOn: older === undefined ? [] : [older], additionalSecretOutputs: ['secretData'] },
      );
      versions.set(s.id, version);
      older = version;
    }
    this.versions = new Map(args.secrets.map((s) => [s.id, versions.get(s.id)!] as const));
    this.secretResourceName = pulumi.interpolate`projects/${args.project}/secrets/${this.secret.secretId}`;
    this.registerOutputs({ secretResourceName: this.secretResourceName, versionIds: [...this.versions.keys()] });
  }
}
