/**
 * The identifiers Google Cloud issues, as this program accepts them: project ids (including
 * domain-scoped ones) and service-account emails of every kind. Pure checks, shared by config
 * parsing and the components.
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';

/**
 * A project id: 6-30 lowercase letters, digits or hyphens, starting with a letter, not ending in a
 * hyphen (https://cloud.google.com/resource-manager/docs/creating-managing-projects). Projects of
 * older Google Workspace domains carry the domain as a prefix, `example.com:my-project`
 * (https://cloud.google.com/resource-manager/docs/creating-managing-projects#identifying_projects
 * and "Domain-scoped projects" in https://cloud.google.com/artifact-registry/docs/docker/names#domain).
 */
export const PROJECT_ID = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`);

export function isProjectId(value: string): boolean {
  return PROJECT_ID.test(value);
}

/**
 * Every form of service-account email Google issues
 * (https://cloud.google.com/iam/docs/service-account-types):
 * - `<name>@<project>.iam.gserviceaccount.com`: accounts you create, and service agents
 *   (`service-<number>@gcp-sa-<service>.iam.gserviceaccount.com`); in a domain-scoped project the
 *   domain joins the host, `<name>@<project>.<domain>.iam.gserviceaccount.com`;
 * - `<number>-compute@developer.gserviceaccount.com`: the Compute Engine default account;
 * - `<project>@appspot.gserviceaccount.com`: the App Engine default account;
 * - `<number>@cloudbuild.gserviceaccount.com`: the legacy Cloud Build account.
 */
export const SERVICE_ACCOUNT_EMAIL = new RegExp(
  '^[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?' +
    `@(?:${LABEL}(?:\\.${LABEL})*\\.iam|developer|appspot|cloudbuild)\\.gserviceaccount\\.com$`,
);

export function isServiceAccountEmail(value: string): boolean {
  return SERVICE_ACCOUNT_EMAIL.test(value);
}
