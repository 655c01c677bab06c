/**
 * `check --before-deploy`: what a first `pulumi up` will meet, read from the project before anything is
 * created. Each judge is a pure function of a Google API's documented answer:
 *  - billing: Cloud Billing `projects.getBillingInfo`
 *    (https://cloud.google.com/billing/docs/reference/rest/v1/projects/getBillingInfo), `billingEnabled`;
 *  - APIs: Service Usage `services.list` with `filter=state:ENABLED`
 *    (https://cloud.google.com/service-usage/docs/reference/rest/v1/services/list);
 *  - org policies: Resource Manager v1 `projects.getEffectiveOrgPolicy`
 *    (https://cloud.google.com/resource-manager/reference/rest/v1/projects/getEffectiveOrgPolicy), whose
 *    `listPolicy` has `allowedValues`, `deniedValues` or `allValues` (`ALLOW` | `DENY`); no `listPolicy` means
 *    the constraint is not set.
 * The constraints (https://cloud.google.com/resource-manager/docs/organization-policy/org-policy-constraints):
 * `iam.allowedPolicyMemberDomains` refuses `allUsers`, which the public invoker grants;
 * `run.allowedIngress` / `cloudfunctions.allowedIngressSettings` can forbid the `all` ingress Gemini needs;
 * `gcp.resourceLocations` can forbid the region, and `global`, which a secret with automatic replication
 * needs ("can only be created if resource creation in global is allowed",
 * https://cloud.google.com/secret-manager/docs/choosing-replication).
 */
import type { Ingress } from '../../infra/settings.ts';
import { isRecord } from '../../functions/records.ts';
import type { CliContext } from '../context.ts';
import { googleRest, GoogleRestError, type RestAnswer } from '../google-rest.ts';
import { failed, passed, skipped, type HopResult } from './hops.ts';

/** The APIs Pulumi itself calls before the program can enable the others (docs/deploy.md, Prerequisites). */
export const BOOTSTRAP_APIS = ['cloudresourcemanager.googleapis.com', 'serviceusage.googleapis.com'] as const;

/** What the checks need to know of the deployment, from the stack settings as the program resolves them. */
export interface PlannedDeployment {
  project: string;
  region: string;
  publicInvoker: string;
  enableApis: boolean;
  /** The function's ingress as the Cloud Functions API names it (the `ingress` setting, resolved). */
  ingress: Ingress;
  /** Undefined: automatic replication; else the `secretReplication` locations. */
  secretLocations: string[] | undefined;
  /** The APIs the program uses with these settings (infra/plan.ts `planApis`). */
  apis: readonly string[];
}

/**
 * The same ingress as the `run.allowedIngress` constraint names it
 * (https://cloud.google.com/run/docs/securing/ingress#org-policy).
 */
const RUN_INGRESS: Record<Ingress, string> = {
  ALLOW_ALL: 'all',
  ALLOW_INTERNAL_ONLY: 'internal',
  ALLOW_INTERNAL_AND_GCLB: 'internal-and-cloud-load-balancing',
};

export interface ListPolicy {
  allowedValues?: string[];
  deniedValues?: string[];
  allValues?: string;
}

function listPolicyOf(answer: unknown): ListPolicy | undefined {
  if (!isRecord(answer) || !isRecord(answer['listPolicy'])) return undefined;
  return answer['listPolicy'];
}

/** Whether a list constraint lets `value` through; `matches` decides value groups such as `in:us-locations`. */
export function allows(
  policy: ListPolicy | undefined,
  value: string,
  matches: (entry: string, value: string) => boolean | undefined = (entry, v) => entry === v,
): boolean | undefined {
  if (policy === undefined || policy.allValues === 'ALLOW') return true;
  if (policy.allValues === 'DENY') return false;
  const verdicts = (entries: string[] | undefined): Array<boolean | undefined> =>
    (entries ?? []).map((entry) => matches(entry.replace(/^(?:is:|under:)/, ''), value));
  if (verdicts(policy.deniedValues).includes(true)) return false;
  if ((policy.allowedValues ?? []).length === 0)
    return verdicts(policy.deniedValues).includes(undefined) ? undefined : true;
  const allowed = verdicts(policy.allowedValues);
  if (allowed.includes(true)) return true;
  return allowed.includes(undefined) ? undefined : false;
}

/**
 * Whether a `gcp.resourceLocations` entry covers a location: the location itself, `in:<location>-locations`,
 * or `in:us-locations` for `us-*` regions (value groups:
 * https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations). Other multi-region
 * groups cannot be decided here (undefined).
 */
export function locationMatches(entry: string, location: string): boolean | undefined {
  if (entry === location || entry === `in:${location}-locations`) return true;
  if (entry === 'in:us-locations') return location.startsWith('us-') || location === 'us';
  if (entry === 'in:global-locations') return location === 'global';
  // A region's own group (a name with a digit, e.g. `in:europe-west1-locations`) holds that region only.
  if (/^in:[a-z]+-[a-z]+\d+-locations$/.test(entry)) return false;
  if (entry.startsWith('in:')) return undefined;
  return false;
}

export function judgeBilling(answer: RestAnswer, project: string): HopResult {
  const hop = 'billing';
  if (answer.status === 200 && isRecord(answer.body)) {
    if (answer.body['billingEnabled'] === true) {
      const account = answer.body['billingAccountName'];
      return passed(hop, `${project} is linked to ${typeof account === 'string' ? account : 'a billing account'}.`);
    }
    return failed(
      hop,
      `${project} has no billing account: Cloud Functions, Cloud Build and Artifact Registry refuse to start.`,
      `link one: \`gcloud billing projects link ${project} --billing-account=<ACCOUNT_ID>\`.`,
    );
  }
  return skipped(hop, `cannot read the billing of ${project} (${answer.status}: ${answer.message ?? 'no details'}).`);
}

export function judgeApis(answer: RestAnswer, enabled: readonly string[], planned: PlannedDeployment): HopResult {
  const hop = 'apis';
  if (answer.status !== 200)
    return failed(
      hop,
      `cannot list the enabled APIs of ${planned.project} (${answer.status}: ${answer.message ?? 'no details'}).`,
      `\`gcloud services enable ${BOOTSTRAP_APIS.join(' ')} --project ${planned.project}\`.`,
    );
  const missingBootstrap = BOOTSTRAP_APIS.filter((api) => !enabled.includes(api));
  if (missingBootstrap.length > 0)
    return failed(
      hop,
      `${missingBootstrap.join(', ')} ${missingBootstrap.length === 1 ? 'is' : 'are'} not enabled; Pulumi ` +
        `needs ${missingBootstrap.length === 1 ? 'it' : 'them'} before it can enable the rest.`,
      `\`gcloud services enable ${missingBootstrap.join(' ')} --project ${planned.project}\`.`,
    );
  const missing = planned.apis.filter((api) => !enabled.includes(api));
  if (missing.length === 0) return passed(hop, `all ${planned.apis.length} APIs the program uses are enabled.`);
  if (planned.enableApis)
    return passed(
      hop,
      `${planned.apis.length - missing.length} of ${planned.apis.length} enabled; \`pulumi up\` enables ` +
        `${missing.join(', ')}.`,
    );
  return failed(
    hop,
    `enableApis is false and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not enabled.`,
    `\`gcloud services enable ${missing.join(' ')} --project ${planned.project}\` (or ask whoever manages ` +
      `the project's APIs).`,
  );
}

const POLICY_DOC = 'docs/first-deploy.md, "Troubleshooting"';

export function judgeMemberDomains(answer: RestAnswer, planned: PlannedDeployment): HopResult {
  const hop = 'org policy iam.allowedPolicyMemberDomains';
  if (answer.status !== 200)
    return skipped(hop, `cannot read it (${answer.status}: ${answer.message ?? 'no details'}).`);
  const verdict = allows(listPolicyOf(answer.body), 'allUsers', () => false);
  const restricted = listPolicyOf(answer.body) !== undefined && verdict !== true;
  if (!restricted) return passed(hop, 'not restricted: the public invoker (allUsers) is allowed.');
  if (planned.publicInvoker === 'none')
    return passed(hop, 'restricts members to your domains; publicInvoker is none, so the program grants no allUsers.');
  return failed(
    hop,
    'domain-restricted sharing refuses the allUsers invoker binding, after the whole build.',
    '`pulumi config set publicInvoker none` (docs/deploy.md, "If your organisation forbids allUsers").',
  );
}

export function judgeIngress(
  runAnswer: RestAnswer,
  functionsAnswer: RestAnswer,
  planned: PlannedDeployment,
): HopResult {
  const hop = 'org policy ingress';
  const runValue = RUN_INGRESS[planned.ingress];
  const run = runAnswer.status === 200 ? allows(listPolicyOf(runAnswer.body), runValue) : undefined;
  const functionsValue = planned.ingress;
  const functions =
    functionsAnswer.status === 200 ? allows(listPolicyOf(functionsAnswer.body), functionsValue) : undefined;
  if (runAnswer.status !== 200 && functionsAnswer.status !== 200)
    return skipped(
      hop,
      `cannot read run.allowedIngress or cloudfunctions.allowedIngressSettings (${runAnswer.status}).`,
    );
  const refused = [
    ...(run === false ? [`run.allowedIngress forbids ${runValue}`] : []),
    ...(functions === false ? [`cloudfunctions.allowedIngressSettings forbids ${functionsValue}`] : []),
  ];
  if (refused.length > 0)
    return failed(
      hop,
      `${refused.join('; ')}; Gemini reaches the receiver only from the internet.`,
      `put a load balancer your organisation allows in front and set the stack's \`ingress\` setting to ` +
        `what the policy allows (${POLICY_DOC}).`,
    );
  if (run === undefined || functions === undefined)
    return skipped(
      hop,
      `cannot tell whether ingress ${runValue} is allowed; check the two constraints in the console.`,
    );
  return passed(hop, `ingress ${runValue} is allowed.`);
}

export function judgeLocations(answer: RestAnswer, planned: PlannedDeployment): HopResult {
  const hop = 'org policy gcp.resourceLocations';
  if (answer.status !== 200)
    return skipped(hop, `cannot read it (${answer.status}: ${answer.message ?? 'no details'}).`);
  const policy = listPolicyOf(answer.body);
  const region = allows(policy, planned.region, locationMatches);
  if (region === false)
    return failed(
      hop,
      `the region ${planned.region} is not an allowed location.`,
      `\`pulumi config set gcp:region <an allowed region>\` (${POLICY_DOC}).`,
    );
  const secretPlaces = planned.secretLocations ?? ['global'];
  const secret = secretPlaces.map((place) => allows(policy, place, locationMatches));
  if (secret.includes(false))
    return failed(
      hop,
      planned.secretLocations === undefined
        ? "the signing secret's automatic replication needs `global`, which the policy forbids."
        : `the secret's replication locations (${planned.secretLocations.join(', ')}) are not all allowed.`,
      `replicate the secret to allowed regions with the stack's \`secretReplication\` setting (e.g. ` +
        `${planned.region}) (${POLICY_DOC}).`,
    );
  if (region === undefined || secret.includes(undefined))
    return skipped(
      hop,
      `cannot tell whether ${[planned.region, ...secretPlaces].join(' and ')} fall in the allowed value ` +
        `groups (${(policy?.allowedValues ?? []).join(', ')}).`,
    );
  return passed(hop, `${planned.region} and the secret's ${secretPlaces.join(', ')} are allowed locations.`);
}

async function effectivePolicy(context: CliContext, project: string, constraint: string): Promise<RestAnswer> {
  return googleRest(
    context,
    'POST',
    `https://cloudresourcemanager.googleapis.com/v1/projects/${encodeURIComponent(project)}:getEffectiveOrgPolicy`,
    { constraint: `constraints/${constraint}` },
  );
}

async function enabledServices(context: CliContext, project: string): Promise<{ answer: RestAnswer; names: string[] }> {
  const names: string[] = [];
  let pageToken = '';
  for (;;) {
    const url = new URL(`https://serviceusage.googleapis.com/v1/projects/${encodeURIComponent(project)}/services`);
    url.searchParams.set('filter', 'state:ENABLED');
    url.searchParams.set('pageSize', '200');
    if (pageToken) url.searchParams.set('pageToken', pageToken);
    const answer = await googleRest(context, 'GET', url.href);
    if (answer.status !== 200 || !isRecord(answer.body)) return { answer, names };
    for (const service of Array.isArray(answer.body['services']) ? answer.body['services'] : []) {
      const name = isRecord(service) && isRecord(service['config']) ? service['config']['name'] : undefined;
      if (typeof name === 'string') names.push(name);
      else if (isRecord(service) && typeof service['name'] === 'string') names.push(service['name'].split('/').at(-1)!);
    }
    pageToken = typeof answer.body['nextPageToken'] === 'string' ? answer.body['nextPageToken'] : '';
    if (pageToken === '') return { answer, names };
  }
}

export async function beforeDeployHops(context: CliContext, planned: PlannedDeployment): Promise<HopResult[]> {
  const { project } = planned;
  try {
    const billing = await googleRest(
      context,
      'GET',
      `https://cloudbilling.googleapis.com/v1/projects/${encodeURIComponent(project)}/billingInfo`,
    );
    const services = await enabledServices(context, project);
    const domains = await effectivePolicy(context, project, 'iam.allowedPolicyMemberDomains');
    const runIngress = await effectivePolicy(context, project, 'run.allowedIngress');
    const functionsIngress = await effectivePolicy(context, project, 'cloudfunctions.allowedIngressSettings');
    const locations = await effectivePolicy(context, project, 'gcp.resourceLocations');
    return [
      judgeBilling(billing, project),
      judgeApis(services.answer, services.names, planned),
      judgeMemberDomains(domains, planned),
      judgeIngress(runIngress, functionsIngress, planned),
      judgeLocations(locations, planned),
    ];
  } catch (error) {
    if (!(error instanceof GoogleRestError)) throw error;
    return [failed('google cloud', error.message, 'sign in with `gcloud auth application-default login`.')];
  }
}
