import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { REQUIRED_APIS } from '../plan.ts';

export interface RequiredApisArgs {
  project: pulumi.Input<string>;
  /** Service names to enable; defaults to everything this deployment uses. */
  services?: readonly string[];
}

/**
 * Enables the Google APIs the deployment needs. Teardown leaves them on: other workloads in the
 * project may rely on them, and disabling an API can delete that API's resources.
 */
export class RequiredApis extends pulumi.ComponentResource {
  public readonly services: gcp.projects.Service[];

  constructor(name: string, args: RequiredApisArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks:project:RequiredApis', name, {}, opts);
    this.services = (args.services ?? REQUIRED_APIS).map((service) => new gcp.projects.Service(`${name}-${service.split('.')[0]}`, {
      project: args.project,
      service,
      disableOnDestroy: false,
      disableDependentServices: false,
    }, { parent: this }));
    this.registerOutputs({ services: this.services.map((s) => s.service) });
  }
}
