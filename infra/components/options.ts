import * as pulumi from '@pulumi/pulumi';

/**
 * The `dependsOn` a component was given, so its children can wait for the same resources (Pulumi
 * does not pass a component's `dependsOn` down to its children). Used for "after the APIs are on".
 */
export function inheritedDependsOn(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
  const dependsOn = opts?.dependsOn;
  if (dependsOn === undefined) return [];
  if (Array.isArray(dependsOn)) return dependsOn;
  if (pulumi.Resource.isInstance(dependsOn)) return [dependsOn];
  throw new Error('pass dependsOn to this component as a resource or an array of resources');
}
