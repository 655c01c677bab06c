/**
 * What a million deliveries cost, from a bench run's capacity figures and Google's public list
 * prices (Tier 1 regions such as the default us-central1, request-based billing, list prices before
 * the monthly free tiers). The table is written into docs/deploy.md by a full `npm run bench`.
 */
import { cpuForMemory } from '../infra/plan.ts';
import { DEFAULTS } from '../infra/settings.ts';
import type { CapacityResults } from './results.ts';
import { round } from './stats.ts';

/** When the prices below were read from the pages they cite. */
export const PRICES_READ_ON = '2026-12-07';

export const PRICES = {
  /** https://cloud.google.com/run/pricing: request-based billing ("CPU only allocated during request processing"), Tier 1. */
  cloudRun: {
    url: 'https://cloud.google.com/run/pricing',
    perVcpuSecond: 0.000024,
    perGibSecond: 0.0000025,
    perMillionRequests: 0.4,
    /** Billable instance time is rounded up to the nearest 100 ms. */
    roundingSeconds: 0.1,
  },
  /** https://cloud.google.com/pubsub/pricing: throughput, with at least 1,000 bytes per publish, push or pull request. */
  pubsub: { url: 'https://cloud.google.com/pubsub/pricing', perTib: 40, minimumBytesPerRequest: 1000 },
  /** https://cloud.google.com/secret-manager/pricing: access operations (listing versions is a free management operation). */
  secretManager: { url: 'https://cloud.google.com/secret-manager/pricing', perTenThousandAccesses: 0.03 },
  /** https://cloud.google.com/stackdriver/pricing: Cloud Logging storage (ingestion), per GiB. */
  logging: { url: 'https://cloud.google.com/stackdriver/pricing', perGib: 0.5 },
} as const;

const memoryMib = Number.parseInt(DEFAULTS.memory, 10);
/** The deployment's defaults: its memory, the CPU that memory gets, its concurrency. */
export const INSTANCE = {
  vcpu: Number(cpuForMemory(memoryMib)),
  memoryGib: memoryMib / 1024,
  concurrency: DEFAULTS.concurrency,
} as const;
/** How often a busy instance reloads its signing secrets (WEBHOOK_SECRET_REFRESH_SECONDS' default). */
const SECRET_LOADS_PER_HOUR = 12;

export interface CostRow {
  item: string;
  /** One instance kept busy at the measured rate. */
  steady: number;
  /** Deliveries one at a time, each billing the 100 ms minimum of instance time; null where it depends on spacing. */
  sporadic: number | null;
  basis: string;
}

const MILLION = 1_000_000;
const TIB = 2 ** 40;
const GIB = 2 ** 30;

export function costsPerMillion(capacity: CapacityResults): CostRow[] {
  const rate = capacity.point.requestsPerSecond;
  const steadySeconds = MILLION / rate;
  const sporadicSeconds = MILLION * PRICES.cloudRun.roundingSeconds;
  const { cloudRun, pubsub, secretManager, logging } = PRICES;
  // Each delivery is its own Publish request unless deliveries overlap, so the 1,000-byte minimum
  // applies to every thin Gemini event (pointers to results, a few hundred bytes with attributes).
  const publishBytes = pubsub.minimumBytesPerRequest;
  const pubsubCost = (MILLION * publishBytes * pubsub.perTib) / TIB;
  const secretAccesses = (steadySeconds / 3600) * SECRET_LOADS_PER_HOUR;
  const rows: CostRow[] = [
    {
      item: `Cloud Run CPU (${INSTANCE.vcpu} vCPU)`,
      steady: steadySeconds * INSTANCE.vcpu * cloudRun.perVcpuSecond,
      sporadic: sporadicSeconds * INSTANCE.vcpu * cloudRun.perVcpuSecond,
      basis:
        `${Math.round(steadySeconds).toLocaleString('en-US')} s of instance time busy; ` +
        `${sporadicSeconds.toLocaleString('en-US')} s one at a time`,
    },
    {
      item: `Cloud Run memory (${INSTANCE.memoryGib * 1024} MiB)`,
      steady: steadySeconds * INSTANCE.memoryGib * cloudRun.perGibSecond,
      sporadic: sporadicSeconds * INSTANCE.memoryGib * cloudRun.perGibSecond,
      basis: 'the same instance time',
    },
    {
      item: 'Cloud Run requests',
      steady: cloudRun.perMillionRequests,
      sporadic: cloudRun.perMillionRequests,
      basis: 'one request per delivery',
    },
    {
      item: 'Pub/Sub publish',
      steady: pubsubCost,
      sporadic: pubsubCost,
      basis: `${publishBytes.toLocaleString('en-US')} bytes billed per delivery (the per-request minimum)`,
    },
    {
      item: 'Pub/Sub delivery to each consumer subscription',
      steady: pubsubCost,
      sporadic: pubsubCost,
      basis: 'the same per push or pull request, per subscription',
    },
    {
      item: 'Secret Manager access',
      steady: (secretAccesses / 10_000) * secretManager.perTenThousandAccesses,
      sporadic: null,
      basis:
        `one access per enabled version per 5 min of an instance's activity and per cold start, not per delivery: ` +
        `${Math.ceil(secretAccesses)} busy; 12 an hour for an instance that keeps getting deliveries`,
    },
    {
      item: 'Cloud Logging, one line per delivery',
      steady: (MILLION * capacity.logBytesPerDelivery * logging.perGib) / GIB,
      sporadic: (MILLION * capacity.logBytesPerDelivery * logging.perGib) / GIB,
      basis: `${capacity.logBytesPerDelivery} bytes of JSON per delivery, measured (the LogEntry around it adds more)`,
    },
  ];
  return rows.map((row) => ({
    ...row,
    steady: round(row.steady, 4),
    sporadic: row.sporadic === null ? null : round(row.sporadic, 4),
  }));
}
