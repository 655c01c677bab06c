import { createHash } from 'node:crypto';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { LOG_COMPONENT } from '../../functions/log.ts';
import { consumerSubscriptionPattern, planNames } from '../plan.ts';
import { inheritedDependsOn } from './options.ts';
import { joinedIds, propagationWait } from './propagation-wait.ts';

export interface MonitoringArgs {
  project: pulumi.Input<string>;
  /**
   * Topic prefix of the deployment. It also names the receiver's function, and a 2nd gen function
   * runs as the Cloud Run service of the same name (`gcloud run deploy FUNCTION_NAME` manages it:
   * https://cloud.google.com/functions/docs/managing), so logs and request metrics are scoped to
   * that name without waiting for the function to be built.
   */
  topicPrefix: string;
  /** Every dead-letter subscription id; any message in one of them raises an alert. */
  deadLetterSubscriptions: readonly string[];
  /** Consumers whose subscriptions are watched for old unacked messages; the alert is skipped when empty. */
  consumers: readonly string[];
  /** Email addresses notified by every alert. */
  alertEmails: readonly string[];
  /** Alert when the oldest unacked message of a consumer subscription is older than this. Default 900. */
  oldestUnackedAgeSeconds?: number;
  /** Alert when the receiver answers more 5xx per second than this, sustained 5 minutes. Default 0.05. */
  serverErrorRatePerSecond?: number;
  /** Alert when more deliveries than this are rejected within 5 minutes. Default 20. */
  verificationFailuresPer5Min?: number;
  /**
   * How long to wait after creating the log-based metrics before an alert uses one (one number and a unit,
   * e.g. `10m`; infra/durations.ts).
   */
  logMetricsWait: pulumi.Input<string>;
}

/** Exact-match regex over a list of ids (ids are `[a-z0-9-]`, so nothing needs escaping). */
export function anyOf(ids: readonly string[]): string {
  for (const id of ids)
    if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`cannot match id ${JSON.stringify(id)} in a monitoring filter`);
  return `monitoring.regex.full_match("(${ids.join('|')})")`;
}

/** The receiver's delivery log lines (one per delivery, structured JSON). */
export function receiverLogFilter(serviceName: string, extra = ''): string {
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${serviceName}"`,
    `jsonPayload.component="${LOG_COMPONENT}"`,
    ...(extra === '' ? [] : [extra]),
  ].join(' AND ');
}

/**
 * Alerts and a dashboard for the pipeline: dead letters waiting, receiver 5xx rate, a spike of
 * verification failures (log-based metric over the contract's `outcome`/`reason` fields), and
 * consumers falling behind. Log-based metrics also feed the dashboard: deliveries by type,
 * verification failures by reason, publish latency, dead-letter depth.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly notificationChannels: gcp.monitoring.NotificationChannel[];
  public readonly alertPolicies: gcp.monitoring.AlertPolicy[];
  public readonly logMetrics: gcp.logging.Metric[];
  /** The wait between the log-based metrics and the alert policies that use them. */
  public readonly logMetricsPropagation: pulumi.CustomResource;
  public readonly dashboard: gcp.monitoring.Dashboard;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:Monitoring', name, {}, opts);
    const after = inheritedDependsOn(opts);
    const child = { parent: this, dependsOn: after };
    const names = planNames(args.topicPrefix);
    const service = names.functionName;

    // Channels are keyed by a hash of the address, so adding or removing one leaves the others alone.
    this.notificationChannels = args.alertEmails.map(
      (email) =>
        new gcp.monitoring.NotificationChannel(
          `${name}-email-${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 8)}`,
          {
            project: args.project,
            type: 'email',
            displayName: `Gemini webhooks: ${email}`,
            labels: { email_address: email },
          },
          child,
        ),
    );
    const channels = this.notificationChannels.map((c) => c.name);

    const deliveries = new gcp.logging.Metric(
      `${name}-deliveries`,
      {
        project: args.project,
        name: names.deliveriesMetric,
        description: 'Webhook deliveries handled by the receiver, by outcome, route and status.',
        filter: receiverLogFilter(service),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: 'INT64',
          labels: [
            {
              key: 'outcome',
              valueType: 'STRING',
              description: 'published, duplicate, rejected, unavailable or error',
            },
            { key: 'route', valueType: 'STRING', description: 'catalog event type or unrouted' },
            { key: 'status', valueType: 'STRING', description: 'HTTP status answered' },
          ],
        },
        labelExtractors: {
          outcome: 'EXTRACT(jsonPayload.outcome)',
          route: 'EXTRACT(jsonPayload.route)',
          status: 'EXTRACT(jsonPayload.status)',
        },
      },
      child,
    );
    const verificationFailures = new gcp.logging.Metric(
      `${name}-verification-failures`,
      {
        project: args.project,
        name: names.verificationFailuresMetric,
        description:
          'Deliveries the receiver refused as malformed or unverifiable ' +
          '(400/401: bad or missing signature, stale timestamp, ...), by reason.',
        // 400 and 401 only: 404/405 are scanners probing a public URL, 408/413 are size and time
        // limits; counting them would page on-call for internet background noise.
        filter: receiverLogFilter(
          service,
          'jsonPayload.outcome="rejected" AND (jsonPayload.status=400 OR jsonPayload.status=401)',
        ),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: 'INT64',
          labels: [
            { key: 'reason', valueType: 'STRING', description: 'why the delivery was rejected' },
            { key: 'scheme', valueType: 'STRING', description: 'static or jwt' },
          ],
        },
        labelExtractors: { reason: 'EXTRACT(jsonPayload.reason)', scheme: 'EXTRACT(jsonPayload.scheme)' },
      },
      child,
    );
    const publishLatency = new gcp.logging.Metric(
      `${name}-publish-latency`,
      {
        project: args.project,
        name: names.publishLatencyMetric,
        description: 'Time the receiver spent publishing a verified delivery to Pub/Sub.',
        filter: receiverLogFilter(service, 'jsonPayload.outcome="published"'),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: 'DISTRIBUTION',
          unit: 'ms',
          labels: [{ key: 'route', valueType: 'STRING', description: 'catalog event type or unrouted' }],
        },
        valueExtractor: 'EXTRACT(jsonPayload.publishLatencyMs)',
        labelExtractors: { route: 'EXTRACT(jsonPayload.route)' },
        bucketOptions: { exponentialBuckets: { numFiniteBuckets: 24, growthFactor: 1.6, scale: 1 } },
      },
      child,
    );
    this.logMetrics = [deliveries, verificationFailures, publishLatency];
    // Cloud Monitoring learns of a new log-based metric only after a while: an alert policy created
    // at once fails with "Error 404: Cannot find metric(s) that match type =
    // "logging.googleapis.com/user/...". If a metric was created recently, it could take up to 10
    // minutes to become available" (https://github.com/hashicorp/terraform-provider-google/issues/11102,
    // still open). The metrics do not wait for the function, so this runs while it builds.
    this.logMetricsPropagation = propagationWait(
      `${name}-log-metrics-propagation`,
      {
        duration: args.logMetricsWait,
        triggers: { metrics: joinedIds(this.logMetrics) },
        waitFor: this.logMetrics,
      },
      child,
    );

    const deadLetterFilter =
      'resource.type="pubsub_subscription" AND ' +
      `resource.labels.subscription_id=${anyOf(args.deadLetterSubscriptions)}`;
    const policies: gcp.monitoring.AlertPolicy[] = [];
    const policy = (
      suffix: string,
      policyArgs: Omit<gcp.monitoring.AlertPolicyArgs, 'project' | 'combiner' | 'notificationChannels'>,
      deps: pulumi.Resource[] = [],
    ): void => {
      policies.push(
        new gcp.monitoring.AlertPolicy(
          `${name}-${suffix}`,
          {
            project: args.project,
            combiner: 'OR',
            notificationChannels: channels,
            ...policyArgs,
          },
          { parent: this, dependsOn: [...after, ...deps] },
        ),
      );
    };

    policy('dead-letters', {
      displayName: `Gemini webhooks (${args.topicPrefix}): messages in a dead-letter subscription`,
      severity: 'ERROR',
      documentation: {
        mimeType: 'text/markdown',
        content:
          'A consumer failed to process an event after every delivery attempt. ' +
          'Inspect the dead-letter subscription named in the incident ' +
          '(`gcloud pubsub subscriptions pull <id> --limit 10`), fix the consumer, then replay.',
      },
      conditions: [
        {
          displayName: 'Undelivered dead letters > 0',
          conditionThreshold: {
            filter: `metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND ${deadLetterFilter}`,
            comparison: 'COMPARISON_GT',
            thresholdValue: 0,
            duration: '60s',
            aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_MAX' }],
            trigger: { count: 1 },
          },
        },
      ],
    });

    policy('receiver-5xx', {
      displayName: `Gemini webhooks (${args.topicPrefix}): receiver answering 5xx`,
      severity: 'ERROR',
      documentation: {
        mimeType: 'text/markdown',
        content:
          'The receiver answers 5xx, so Gemini is retrying (and after ~24 h gives up and may disable the webhook). ' +
          'Check its logs for `outcome="unavailable"` and the `reason` ' +
          '(pubsub_unavailable, pubsub_timeout, secrets_unavailable, jwks_unavailable, jwks_refresh_pending).',
      },
      conditions: [
        {
          displayName: '5xx responses per second',
          conditionThreshold: {
            filter:
              'metric.type="run.googleapis.com/request_count" AND resource.type="cloud_run_revision" ' +
              `AND resource.labels.service_name="${service}" AND metric.labels.response_code_class="5xx"`,
            comparison: 'COMPARISON_GT',
            thresholdValue: args.serverErrorRatePerSecond ?? 0.05,
            duration: '300s',
            aggregations: [
              { alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' },
            ],
            trigger: { count: 1 },
          },
        },
      ],
    });

    policy(
      'verification-failures',
      {
        displayName: `Gemini webhooks (${args.topicPrefix}): spike of rejected deliveries`,
        severity: 'WARNING',
        documentation: {
          mimeType: 'text/markdown',
          content:
            'Many deliveries failed verification. After a rotation this usually means the new secret is not ' +
            'in `signingSecrets` yet; otherwise someone is probing the endpoint. The `reason` label says which.',
        },
        conditions: [
          {
            displayName: 'Rejected deliveries in 5 minutes',
            conditionThreshold: {
              filter:
                `metric.type="logging.googleapis.com/user/${names.verificationFailuresMetric}" ` +
                'AND resource.type="cloud_run_revision"',
              comparison: 'COMPARISON_GT',
              thresholdValue: args.verificationFailuresPer5Min ?? 20,
              duration: '0s',
              aggregations: [
                { alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' },
              ],
              trigger: { count: 1 },
            },
          },
        ],
      },
      [this.logMetricsPropagation],
    );

    if (args.consumers.length > 0) {
      const consumerPattern = consumerSubscriptionPattern(args.topicPrefix, args.consumers);
      policy('oldest-unacked', {
        displayName: `Gemini webhooks (${args.topicPrefix}): a consumer is falling behind`,
        severity: 'WARNING',
        documentation: {
          mimeType: 'text/markdown',
          content:
            'A consumer subscription holds an unacked message older than the threshold: ' +
            'the consumer is down, slow, or nacking.',
        },
        conditions: [
          {
            displayName: 'Oldest unacked message age',
            conditionThreshold: {
              filter:
                'metric.type="pubsub.googleapis.com/subscription/oldest_unacked_message_age" AND ' +
                'resource.type="pubsub_subscription" AND ' +
                `resource.labels.subscription_id=monitoring.regex.full_match("${consumerPattern}")`,
              comparison: 'COMPARISON_GT',
              thresholdValue: args.oldestUnackedAgeSeconds ?? 900,
              duration: '300s',
              aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_MAX' }],
              trigger: { count: 1 },
            },
          },
        ],
      });
    }
    this.alertPolicies = policies;

    this.dashboard = new gcp.monitoring.Dashboard(
      `${name}-dashboard`,
      {
        project: args.project,
        dashboardJson: pulumi.jsonStringify({
          displayName: `Gemini webhooks (${args.topicPrefix})`,
          mosaicLayout: {
            columns: 12,
            tiles: [
              tile(
                0,
                0,
                'Deliveries by event type',
                `metric.type="logging.googleapis.com/user/${names.deliveriesMetric}" AND ` +
                  'resource.type="cloud_run_revision" AND metric.labels.outcome="published"',
                'ALIGN_RATE',
                'REDUCE_SUM',
                ['metric.label.route'],
              ),
              tile(
                6,
                0,
                'Verification failures by reason',
                `metric.type="logging.googleapis.com/user/${names.verificationFailuresMetric}" ` +
                  'AND resource.type="cloud_run_revision"',
                'ALIGN_RATE',
                'REDUCE_SUM',
                ['metric.label.reason'],
              ),
              tile(
                0,
                4,
                'Publish latency p99 (ms)',
                `metric.type="logging.googleapis.com/user/${names.publishLatencyMetric}" ` +
                  'AND resource.type="cloud_run_revision"',
                'ALIGN_PERCENTILE_99',
                'REDUCE_MAX',
                [],
              ),
              tile(
                6,
                4,
                'Dead-letter depth',
                `metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND ${deadLetterFilter}`,
                'ALIGN_MAX',
                'REDUCE_SUM',
                ['resource.label.subscription_id'],
              ),
            ],
          },
        }),
      },
      { parent: this, dependsOn: [...after, ...this.logMetrics] },
    );

    this.registerOutputs({ dashboard: this.dashboard.id, alertPolicies: policies.map((p) => p.name) });
  }
}

function tile(
  x: number,
  y: number,
  title: string,
  filter: string,
  aligner: string,
  reducer: string,
  groupBy: string[],
): object {
  return {
    xPos: x,
    yPos: y,
    width: 6,
    height: 4,
    widget: {
      title,
      xyChart: {
        dataSets: [
          {
            plotType: 'LINE',
            timeSeriesQuery: {
              timeSeriesFilter: {
                filter,
                aggregation: {
                  alignmentPeriod: '60s',
                  perSeriesAligner: aligner,
                  crossSeriesReducer: reducer,
                  groupByFields: groupBy,
                },
              },
            },
          },
        ],
      },
    },
  };
}
