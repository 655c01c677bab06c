import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Replacement } from '../replacement.ts';
import { guardedSecret, type GuardedSecretArgs } from './signing-secrets.ts';

export interface JwtReceiverSecretArgs extends GuardedSecretArgs {
  /** The `jwtReceiverSecret` value. Wrapped in `pulumi.secret` before it reaches any resource. */
  value: pulumi.Input<string>;
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
    ({ secret: this.secret, replacement: this.replacement } = guardedSecret(name, args, this, opts));
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
