import * as pulumi from '@pulumi/pulumi';
import {
  REPLACING_INPUTS,
  replacementOf,
  replacementRefusal,
  type GuardedKind,
  type Replacement,
} from '../replacement.ts';

/**
 * Resource options of a guarded resource. Unless replacements are allowed, its identity inputs ignore
 * changes: Pulumi then diffs them against the state and never plans a replacement, and the resource's
 * outputs stay the deployed values (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/),
 * which `deployedChange` compares with the config. `protect` keeps it from being deleted
 * (https://www.pulumi.com/docs/iac/concepts/options/protect/); it is off when replacements are allowed,
 * since Pulumi cannot replace a protected resource.
 */
export function guardedOptions(
  kind: GuardedKind,
  guard: { allowReplacement: boolean; protect?: boolean },
  extraIgnored: readonly string[] = [],
): Pick<pulumi.CustomResourceOptions, 'ignoreChanges' | 'protect'> {
  const ignoreChanges = [...extraIgnored, ...(guard.allowReplacement ? [] : REPLACING_INPUTS[kind])];
  return {
    ...(ignoreChanges.length === 0 ? {} : { ignoreChanges }),
    ...(guard.protect === true && !guard.allowReplacement ? { protect: true } : {}),
  };
}

/** The resource's deployed identity against the configured one: the replacement it would need, if any. */
export function deployedChange(
  kind: GuardedKind,
  resource: pulumi.CustomResource,
  configured: Record<string, pulumi.Input<unknown>>,
): pulumi.Output<Replacement | undefined> {
  const inputs = REPLACING_INPUTS[kind].filter((input) => input in configured);
  const deployed = pulumi.all(
    inputs.map((input) => (resource as unknown as Record<string, pulumi.Output<unknown>>)[input]),
  );
  return pulumi
    .all([deployed, pulumi.output(configured)])
    .apply(([values, wanted]) =>
      replacementOf(
        kind,
        Object.fromEntries(inputs.map((input, i) => [input, values[i]])),
        wanted as Record<string, unknown>,
      ),
    );
}

/**
 * Fails the run with one line when a guarded resource would be replaced. On create the outputs are
 * the inputs, so a fresh deploy always passes; in `pulumi preview` the outputs come from the state, so
 * the preview fails and nothing is changed. A RunError prints as its message alone.
 */
export function refuseReplacements(
  changes: readonly pulumi.Output<Replacement | undefined>[],
): pulumi.Output<Replacement[]> {
  return pulumi.all([...changes]).apply((all) => {
    const found = all.filter((c): c is Replacement => c !== undefined);
    if (found.length > 0) throw new pulumi.RunError(replacementRefusal(found));
    return found;
  });
}
