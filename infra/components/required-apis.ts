import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type * as time from '@pulumiverse/time';
import { REQUIRED_APIS } from '../plan.ts';
import { joinedIds, propagationWait } from './propagation-wait.ts';

export interface RequiredApisArgs {
  project: pulumi.Input<string>;
  /** Service names to enable (`planApis` decides them); defaults to those every deployment needs. */
  services?: readonly string[];
  /** How long to wait after enabling before anything calls the APIs (one number and a unit, e.g. `60s`). */
  wait: pulumi.Input<string>;
}

/**
 * Enables the Google APIs the deployment needs, then waits: Service Usage reports an API enabled
 * before every Google system accepts calls to it, and calls made at once fail with "If you enabled
 * this API recently, wait a few minutes for the action to propagate to our systems and retry"
 * (https://github.com/hashicorp/terraform-provider-google/issues/4142; the provider's maintainers
 * on this eventual consistency: https://github.com/hashicorp/terraform-provider-google/issues/2129).
 * Everything else depends on `ready`. Teardown leaves the APIs on: other workloads in the project
 * may rely on them, and disabling an API can delete that API's resources.
 */
export class RequiredApis extends pulumi.ComponentResource {
  public readonly services: gcp.projects.Service[];
  /** Done once the APIs are enabled and the wait has passed; depend on this, not on `services`. */
  public readonly ready: time.Sleep;

  constructor(name: string, args: RequiredApisArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:RequiredApis', name, {}, opts);
    this.services = (args.services ?? REQUIRED_APIS).map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split('.')[0]}`,
          {
            project: args.project,
            service,
            disableOnDestroy: false,
            disableDependentServices: false,
          },
          { parent: this },
        ),
    );
    this.ready = propagationWait(
      `${name}-propagation`,
      {
        duration: args.wait,
        triggers: { services: joinedIds(this.services) },
        waitFor: this.services,
      },
      { parent: this },
    );
    this.registerOutputs({ services: this.services.map((s) => s.service) });
  }
}
