import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Replacement } from '../replacement.ts';
import type { SecretReplication } from '../settings.ts';
import { inheritedDependsOn } from './options.ts';
import { deployedChange, guardedOptions } from './replacement-guard.ts';
import { replicationPolicy } from './signing-secrets.ts';

export interface JwtReceiverSecretArgs {
  project: pulumi.Input<string>;
  /** Secret Manager secret id, e.g. `gemini-webhook-jwt-receiver-secret`. */
  secretId: string;
  /** The `jwtReceiverSecret` value. Wrapped in `pulumi.secret` before it reaches any resource. */
  value: pulumi.Input<string>;
  /** Where Secret Manager keeps the secret, as for the signing secrets. Default automatic. */
  replication?: SecretReplication;
  /** Let a change replace the secret (a new id, project or replication). Default false: refused. */
  allowReplacement?: boolean;
  /** Protect the secret from deletion (Pulumi's `protect`). Default true. */
  protectData?: boolean;
  labels?: Record<string, string>;
}

/**
 * The Secret Manager secret holding the JWT receiver secret (`jwtReceiverSecret`), one version. Its
 * own secret, not a version of the signing secrets: the receiver reads every enabled version of that
 * one as a signing key. Cloud Run puts the version into the receiver's environment as
 * `WEBHOOK_JWT_RECEIVER_SECRET` when it starts a revision
 * (https://cloud.google.com/run/docs/configuring/services/secrets), so the value is never an input of
 * the function. A new value is a new version (the old one is disabled, not destroyed) and, since the
 * function names the version, a new revision.
 */
export class JwtReceiverSecret extends pulumi.ComponentResource {
  public readonly secret: gcp.secretmanager.Secret;
  public readonly version: gcp.secretmanager.SecretVersion;
  /** The replacement the config would need (none on a fresh deploy). */
  public readonly replacement: pulumi.Output<Replacement | undefined>;

  constructor(name: string, args: JwtReceiverSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:JwtReceiverSecret', name, {}, opts);
    const replication = replicationPolicy(args.replication ?? { kind: 'automatic' });
    this.secret = new gcp.secretmanager.Secret(
      name,
      { project: args.project, secretId: args.secretId, replication, labels: { ...args.labels } },
      {
        parent: this,
        dependsOn: inheritedDependsOn(opts),
        ...guardedOptions('secret', {
          allowReplacement: args.allowReplacement ?? false,
          protect: args.protectData ?? true,
        }),
      },
    );
    this.replacement = deployedChange('secret', this.secret, {
      project: args.project,
      secretId: args.secretId,
      replication,
    });
    this.version = new gcp.secretmanager.SecretVersion(
      `${name}-current`,
      {
        secret: this.secret.id,
        // `secretData`, a Pulumi secret, for the reasons given in signing-secrets.ts.
        secretData: pulumi.secret(args.value),
        enabled: true,
        deletionPolicy: 'DISABLE',
      },
      { parent: this, additionalSecretOutputs: ['secretData'] },
    );
    this.registerOutputs({ secretId: this.secret.secretId });
  }
}
