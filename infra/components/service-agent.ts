import * as gcp from '@pulumi/gcp';
import type * as pulumi from '@pulumi/pulumi';

/**
 * The Pub/Sub service agent, which forwards dead letters and mints push tokens on the
 * subscriptions' behalf. Google creates service agents "at some point after you activate and use
 * the API", and until then "you can't grant roles to the service agent"; with tools like Terraform
 * it is to be created explicitly (https://cloud.google.com/iam/docs/create-service-agents). Every
 * grant to the agent takes its member from this resource's `member` output, so no grant can run
 * before the agent exists. Creating it again when it exists is a no-op that returns the same agent.
 */
export function pubsubServiceIdentity(
  name: string,
  project: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): gcp.projects.ServiceIdentity {
  return new gcp.projects.ServiceIdentity(name, { project, service: 'pubsub.googleapis.com' }, opts);
}
