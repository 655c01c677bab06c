// `check --before-deploy`, through the real command and the fake `pulumi`, with Google's REST APIs
// answered in the shapes their references document (Cloud Billing getBillingInfo, Service Usage
// services.list, Resource Manager v1 getEffectiveOrgPolicy). Each org policy that breaks a first deploy is
// provoked once, and each failure names the setting or the page that gets around it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allows, locationMatches } from '../../cli/check/before-deploy.ts';
import { REQUIRED_APIS } from '../../infra/plan.ts';
import { cliHarness } from './harness.ts';

interface World {
  billing?: unknown;
  enabled?: string[];
  policies?: Record<string, unknown>;
  status?: number;
}

/** Answers like Google's APIs do, and records the bearer token each call carried. */
function googleApis(world: World, tokens: string[]): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    tokens.push(String((init?.headers as Record<string, string>)['authorization']));
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (world.status !== undefined)
      return json({ error: { code: world.status, message: 'Permission denied.' } }, world.status);
    if (url.host === 'cloudbilling.googleapis.com')
      return json(
        world.billing ?? {
          name: 'projects/p/billingInfo',
          projectId: 'p',
          billingAccountName: 'billingAccounts/0X0X0X-0X0X0X-0X0X0X',
          billingEnabled: true,
        },
      );
    if (url.host === 'serviceusage.googleapis.com') {
      assert.equal(url.searchParams.get('filter'), 'state:ENABLED');
      const names = world.enabled ?? [...REQUIRED_APIS, 'serviceusage.googleapis.com'];
      // Two pages, as services.list pages with nextPageToken.
      const page = url.searchParams.get('pageToken') === '2' ? names.slice(3) : names.slice(0, 3);
      return json({
        services: page.map((name) => ({ name: `projects/123/services/${name}`, config: { name }, state: 'ENABLED' })),
        ...(url.searchParams.get('pageToken') === '2' ? {} : { nextPageToken: '2' }),
      });
    }
    if (url.host === 'cloudresourcemanager.googleapis.com' && url.pathname.endsWith(':getEffectiveOrgPolicy')) {
      const { constraint } = JSON.parse(init?.body as string) as { constraint: string };
      const policy = world.policies?.[constraint.replace('constraints/', '')];
      return json({ constraint, etag: 'BwX=', ...(policy === undefined ? {} : { listPolicy: policy }) });
    }
    return json({ error: { code: 404, message: `no such API ${url.href}` } }, 404);
  };
}

async function beforeDeploy(t: import('node:test').TestContext, world: World, config: Record<string, string> = {}) {
  const harness = await cliHarness(t, {
    pulumi: {
      config: Object.fromEntries(
        Object.entries({ 'gcp:project': 'my-project', 'gcp:region': 'europe-west1', ...config }).map(([k, v]) => [
          k,
          { value: v, secret: false },
        ]),
      ),
    },
  });
  const tokens: string[] = [];
  const run = await harness.run(['check', '--before-deploy'], {
    fetch: googleApis(world, tokens),
    google: { accessToken: async () => 'ya29.test', secretManager: () => Promise.reject(new Error('unused')) },
  });
  return {
    ...run,
    tokens,
    line: (hop: string) => run.out.split('\n').find((l) => l.slice(8).startsWith(`${hop}:`)) ?? run.out,
  };
}

test('a project with billing, the bootstrap APIs and no org policy passes', async (t) => {
  const run = await beforeDeploy(t, {
    enabled: [
      'cloudresourcemanager.googleapis.com',
      'serviceusage.googleapis.com',
      'pubsub.googleapis.com',
      'iam.googleapis.com',
    ],
  });
  assert.equal(run.code, 0, run.out);
  assert.match(
    run.line('stack'),
    /^passed {2}stack: project my-project, region europe-west1, publicInvoker allUsers, ingress all\.$/,
  );
  assert.match(run.line('billing'), /^passed {2}billing: my-project is linked to billingAccounts\/0X0X0X/);
  assert.match(
    run.line('apis'),
    new RegExp(`^passed {2}apis: 3 of ${REQUIRED_APIS.length} enabled; \`pulumi up\` enables artifactregistry`),
  );
  assert.match(run.line('org policy iam.allowedPolicyMemberDomains'), /^passed .*not restricted/);
  assert.match(
    run.line('org policy gcp.resourceLocations'),
    /^passed .*europe-west1 and the secret's global are allowed/,
  );
  assert.ok(run.tokens.every((token) => token === 'Bearer ya29.test'));
});

test('each thing a first deploy would meet fails with the setting or page that gets around it', async (t) => {
  const run = await beforeDeploy(t, {
    billing: {
      name: 'projects/my-project/billingInfo',
      projectId: 'my-project',
      billingAccountName: '',
      billingEnabled: false,
    },
    enabled: ['pubsub.googleapis.com'],
    policies: {
      'iam.allowedPolicyMemberDomains': { allowedValues: ['C0abc123'] },
      'run.allowedIngress': { allowedValues: ['internal-and-cloud-load-balancing'] },
      'gcp.resourceLocations': { allowedValues: ['in:europe-west1-locations'] },
    },
  });
  assert.equal(run.code, 1);
  assert.match(
    run.line('billing'),
    /^failed {2}billing: my-project has no billing account.* Fix: link one: `gcloud billing projects link my-project/,
  );
  assert.match(
    run.line('apis'),
    /^failed {2}apis: cloudresourcemanager\.googleapis\.com, serviceusage\.googleapis\.com are not enabled.*Fix: `gcloud services enable cloudresourcemanager\.googleapis\.com serviceusage\.googleapis\.com --project my-project`/,
  );
  assert.match(
    run.line('org policy iam.allowedPolicyMemberDomains'),
    /^failed .*refuses the allUsers invoker binding.*Fix: `pulumi config set publicInvoker none` \(docs\/deploy\.md, "If your organisation forbids allUsers"\)/,
  );
  assert.match(
    run.line('org policy ingress'),
    /^failed .*run\.allowedIngress forbids all.*Fix: .*the stack's `ingress` setting .*docs\/first-deploy\.md, "Troubleshooting"/,
  );
  assert.match(
    run.line('org policy gcp.resourceLocations'),
    /^failed .*automatic replication needs `global`, which the policy forbids\. Fix: .*`secretReplication` setting \(e\.g\. europe-west1\)/,
  );
});

test('the settings that get around a policy make it pass', async (t) => {
  const run = await beforeDeploy(
    t,
    {
      policies: {
        'iam.allowedPolicyMemberDomains': { allowedValues: ['C0abc123'] },
        'cloudfunctions.allowedIngressSettings': { allowedValues: ['ALLOW_INTERNAL_AND_GCLB'] },
        'gcp.resourceLocations': { allowedValues: ['in:europe-west1-locations'] },
      },
    },
    {
      publicInvoker: 'none',
      ingress: 'internal-and-gclb',
      secretReplication: 'europe-west1',
      enableApis: 'false',
    },
  );
  assert.match(run.line('org policy iam.allowedPolicyMemberDomains'), /^passed .*publicInvoker is none/);
  assert.match(
    run.line('org policy ingress'),
    /^passed {2}org policy ingress: ingress internal-and-cloud-load-balancing is allowed\.$/,
  );
  assert.match(run.line('org policy gcp.resourceLocations'), /^passed /);
  assert.match(run.line('apis'), new RegExp(`^passed {2}apis: all ${REQUIRED_APIS.length} APIs`));
  assert.equal(run.code, 0, run.out);
});

test("a setting the program would refuse fails the stack line in the program's own words", async (t) => {
  const run = await beforeDeploy(t, {}, { ingress: 'ALLOW_ALL' });
  assert.match(
    run.line('stack'),
    /^failed {2}stack: Config `ingress` must be one of "all", "internal-and-gclb", "internal-only" \(got "ALLOW_ALL"\)\./,
  );
  assert.notEqual(run.code, 0);
});

test('an org policy it may not read is skipped with why, never passed', async (t) => {
  const run = await beforeDeploy(t, { status: 403 });
  assert.match(
    run.line('billing'),
    /^skipped billing: cannot read the billing of my-project \(403: Permission denied\.\)/,
  );
  assert.match(run.line('org policy gcp.resourceLocations'), /^skipped .*cannot read it \(403/);
  assert.match(run.line('apis'), /^failed {2}apis: cannot list the enabled APIs/);
});

test('list policies are read as Resource Manager documents them', () => {
  assert.equal(allows(undefined, 'x'), true);
  assert.equal(allows({ allValues: 'DENY' }, 'x'), false);
  assert.equal(allows({ deniedValues: ['x'] }, 'x'), false);
  assert.equal(allows({ allowedValues: ['y'] }, 'x'), false);
  assert.equal(allows({ allowedValues: ['is:x'] }, 'x'), true);
  assert.equal(allows({ allowedValues: ['in:us-locations'] }, 'us-central1', locationMatches), true);
  assert.equal(allows({ allowedValues: ['in:us-locations'] }, 'global', locationMatches), false);
  assert.equal(allows({ allowedValues: ['in:eu-locations'] }, 'europe-west1', locationMatches), undefined);
  assert.equal(allows({ allowedValues: ['under:in:europe-west1-locations'] }, 'europe-west1', locationMatches), true);
});
