import * as pulumi from '@pulumi/pulumi';
import * as time from '@pulumiverse/time';

export interface PropagationWaitArgs {
  /**
   * One number and a unit, e.g. `120s` (infra/durations.ts). Changing it alone does not sleep again (the
   * Sleep is only updated).
   */
  duration: pulumi.Input<string>;
  /**
   * Stable identities (ids, emails, names) of what the wait is for. A changed trigger replaces the
   * Sleep, so it sleeps again when what it waits for is replaced; an update that changes none of
   * them leaves the Sleep as it is, and nothing sleeps.
   */
  triggers: Record<string, pulumi.Input<string>>;
  /** The resources whose changes Google Cloud applies only after a delay. */
  waitFor: pulumi.Resource[];
}

/**
 * Waits where Google Cloud reports a change done before it takes effect. `@pulumiverse/time`'s
 * Sleep is Pulumi's counterpart of Terraform's `time_sleep`
 * (https://www.pulumi.com/registry/packages/time/api-docs/sleep/): it sleeps when it is created or
 * replaced, and nowhere else.
 */
export function propagationWait(
  name: string,
  args: PropagationWaitArgs,
  opts: pulumi.CustomResourceOptions,
): time.Sleep {
  const dependsOn = [...dependenciesOf(opts), ...args.waitFor];
  return new time.Sleep(name, { createDuration: args.duration, triggers: args.triggers }, { ...opts, dependsOn });
}

/** Joins the ids of several resources into one trigger value. */
export function joinedIds(resources: readonly pulumi.CustomResource[]): pulumi.Output<string> {
  return pulumi.all(resources.map((r) => r.id)).apply((ids) => ids.join(','));
}

function dependenciesOf(opts: pulumi.CustomResourceOptions): pulumi.Input<pulumi.Resource>[] {
  const dependsOn = opts.dependsOn;
  if (dependsOn === undefined) return [];
  if (Array.isArray(dependsOn)) return dependsOn;
  return [dependsOn as pulumi.Input<pulumi.Resource>];
}
