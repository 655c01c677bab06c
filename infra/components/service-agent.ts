import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { propagationWait } from './propagation-wait.ts';

/** The Pub/Sub service agent, usable for grants. */
export interface PubsubServiceAgent {
  identity: gcp.projects.ServiceIdentity;
  /**
   * The agent's IAM member, taken from the ServiceIdentity's output and carrying the wait after it:
   * every grant that uses it runs after the agent exists and has become usable.
   */
  member: pulumi.Output<string>;
  /** The agent's usual role, `roles/pubsub.serviceAgent`, on the project. */
  roleGrant: gcp.projects.IAMMember;
}

/**
 * The Pub/Sub service agent, which forwards dead letters and mints push tokens on the
 * subscriptions' behalf. Google creates service agents "at some point after you activate and use
 * the API", and until then "you can't grant roles to the service agent"; with tools like Terraform
 * it is to be created explicitly (https://cloud.google.com/iam/docs/create-service-agents). Creating
 * it again when it exists is a no-op that returns the same agent.
 *
 * Two things follow from creating it on request. An agent created so "isn't automatically granted
 * roles": it must be granted the one Google would have (same page; the Pub/Sub agent's is Cloud
 * Pub/Sub Service Agent, https://cloud.google.com/iam/docs/service-agents). That grant is kept when
 * the stack is deleted (`retainOnDelete`): other stacks and Pub/Sub itself rely on it. And its
 * member is refused with "Error 400 ... does not exist" right after creation
 * (https://github.com/hashicorp/terraform-provider-google/issues/21931, open); Google asks to "wait
 * for 60 seconds or more" before using a new service account
 * (https://cloud.google.com/iam/docs/service-accounts-create). So the member is handed out only
 * after a Sleep, which sleeps only when the agent is new to the stack.
 */
export function pubsubServiceAgent(
  name: string,
  args: { project: pulumi.Input<string>; wait: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): PubsubServiceAgent {
  const identity = new gcp.projects.ServiceIdentity(
    name,
    { project: args.project, service: 'pubsub.googleapis.com' },
    opts,
  );
  const usable = propagationWait(
    `${name}-propagation`,
    { duration: args.wait, triggers: { agent: identity.id }, waitFor: [identity] },
    { ...opts, aliases: [] },
  );
  const member = pulumi.all([identity.member, usable.id]).apply(([agentMember]) => agentMember);
  const roleGrant = new gcp.projects.IAMMember(
    `${name}-role`,
    { project: args.project, role: 'roles/pubsub.serviceAgent', member },
    { ...opts, aliases: [], retainOnDelete: true },
  );
  return { identity, member, roleGrant };
}
