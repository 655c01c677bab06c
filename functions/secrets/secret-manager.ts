// HMAC signing secrets (Standard Webhooks `whsec_...`) loaded from Secret Manager, cached, and refreshed so a
// rotation (add a version, later disable the old one) takes effect without a redeploy.
//
// Layout in Secret Manager: one secret (`WEBHOOK_SIGNING_SECRETS_SECRET=projects/<project>/secrets/<id>`);
// every ENABLED version holds exactly one signing secret. The service account needs
//   - `secretmanager.versions.list`   (roles/secretmanager.viewer, or a custom role) to list the versions, and
//   - `secretmanager.versions.access` (roles/secretmanager.secretAccessor) to read them.
//
// Cache policy (see createSecretManagerSource):
//   - `current()` answers from the cache. Once the cache is older than `refreshIntervalMs` the next call starts
//     a background refresh and still answers from the cache (stale-while-revalidate); concurrent callers and
//     `refreshAfterFailure()` share one in-flight fetch (single flight).
//   - A failed refresh keeps the last good list, up to `maxStaleMs` (default 24 h) after the last successful
//     load; retries back off exponentially from 1 s up to `minRefreshIntervalMs`.
//   - `current()` waits for a fetch only when there is no usable list (first load, or the last success is
//     older than `maxStaleMs`); if that fetch fails it throws SecretsUnavailableError. While backing off after
//     such a failure it rethrows the last error at once instead of hitting Secret Manager on every request.
//   - A load is bounded by `timeoutMs` (default 5 s) overall; every RPC gets the remaining budget as its
//     deadline, so a hung Secret Manager cannot hold a webhook request past the publish deadline.
//
// Transport: REST (google-gax's `fallback` mode: HTTP/1.1 with JSON), not gRPC. The client is built once per
// instance, on the way to its first answer, and a gRPC client spends most of its start building the service
// definition for @grpc/grpc-js and opening an HTTP/2 channel; two calls every few minutes gain nothing from
// either. The same retry settings, deadlines and status codes apply on both transports (gax maps an HTTP
// error to its gRPC code); test/reliability/secret-manager-rest.test.ts holds the REST transport to the
// faults the gRPC one is tested against. Measured in bench/README.md ("Cold start").
//
// Nothing here logs, and no error message ever contains a secret value.
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { grpcCode, grpcStatusName, Status } from '../grpc-status.ts';
import type { SigningSecretSource } from '../signing-keys.ts';

/**
 * Thrown when secrets cannot be loaded right now (network, permission, not found, no enabled version,
 * malformed configuration). The HTTP edge maps it to 503 + Retry-After. The message says what failed and how
 * to fix it, never a secret value.
 */
export class SecretsUnavailableError extends Error {
  /** gRPC status name of the underlying failure when there was one (e.g. `PERMISSION_DENIED`). */
  readonly grpcStatus: string | undefined;

  constructor(message: string, opts: { cause?: unknown; grpcStatus?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SecretsUnavailableError';
    this.grpcStatus = opts.grpcStatus;
  }
}

export interface SecretManagerSourceOptions {
  /** `projects/<project>/secrets/<id>`; anything else is rejected with a SecretsUnavailableError. */
  secretName: string;
  /** Injectable client (tests pass one pointed at a fake server). Default: a new client with ADC. */
  client?: SecretManagerServiceClient;
  /** Cache lifetime: once the list is older, the next `current()` starts a refetch. Default 300_000. */
  refreshIntervalMs?: number;
  /** Minimum spacing of `refreshAfterFailure()` fetches, and cap of the failure backoff. Default 30_000. */
  minRefreshIntervalMs?: number;
  /** How long after the last successful load a stale list may still be served. Default 86_400_000 (24 h). */
  maxStaleMs?: number;
  /** Overall deadline of one load (list + access); each RPC gets the remaining budget. Default 5_000. */
  timeoutMs?: number;
  /** Clock for cache ages and rate limits (RPC deadlines always use real time). Default Date.now. */
  now?: () => number;
}

/** What createSecretManagerSource returns: a SigningSecretSource plus a hook to await background work. */
export interface SecretManagerSigningSecretSource extends SigningSecretSource {
  /** Resolves once no fetch is in flight (never rejects). For tests and graceful shutdown. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 300_000;
export const DEFAULT_MIN_REFRESH_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_STALE_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_TIMEOUT_MS = 5_000;
const INITIAL_FAILURE_BACKOFF_MS = 1_000;

// Project: an id (lowercase, digits, hyphens; `domain.com:id` for domain-scoped projects) or a number.
const SECRET_NAME = /^projects\/([a-z0-9][a-z0-9.:-]*)\/secrets\/([A-Za-z0-9_-]{1,255})$/;

/** Validates `projects/<project>/secrets/<id>`; throws SecretsUnavailableError with a hint otherwise. */
export function parseSecretName(secretName: string): { project: string; secretId: string } {
  const name = secretName.trim();
  const m = SECRET_NAME.exec(name);
  if (m !== null) return { project: m[1] ?? '', secretId: m[2] ?? '' };
  let hint =
    'expected projects/<project>/secrets/<secret-id>, e.g. projects/my-project/secrets/gemini-webhook-signing-secrets';
  if (/\/versions\/[^/]*$/.test(name)) {
    hint += ' (give the secret, not a version: every ENABLED version is loaded)';
  } else if (/^projects\/[^/]+\/locations\/[^/]+\/secrets\//.test(name)) {
    hint += ' (regional secrets, projects/*/locations/*/secrets/*, are not supported; use a global secret)';
  }
  throw new SecretsUnavailableError(
    'WEBHOOK_SIGNING_SECRETS_SECRET is not a Secret Manager secret name: ' +
      `${JSON.stringify(truncate(name, 200))}; ${hint}`,
  );
}

export function createSecretManagerSource(opts: SecretManagerSourceOptions): SecretManagerSigningSecretSource {
  const secretName = opts.secretName.trim();
  const { secretId } = parseSecretName(secretName);
  const refreshIntervalMs = opts.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const minRefreshIntervalMs = opts.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
  const maxStaleMs = opts.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const ownsClient = opts.client === undefined;

  let clientPromise: Promise<SecretManagerServiceClient> | undefined =
    opts.client === undefined ? undefined : Promise.resolve(opts.client);
  let cache: { secrets: readonly string[]; loadedAt: number } | undefined;
  let inflight: Promise<readonly string[]> | undefined;
  let lastFetchStartedAt: number | undefined;
  let nextAttemptAt = Number.NEGATIVE_INFINITY; // scheduled refresh, or end of the failure backoff
  let consecutiveFailures = 0;
  let lastError: SecretsUnavailableError | undefined;
  let closed = false;

  const getClient = (): Promise<SecretManagerServiceClient> => {
    // Loaded lazily so local/dev runs (WEBHOOK_SIGNING_SECRETS) never pay for google-gax.
    clientPromise ??= import('@google-cloud/secret-manager').then(
      (m) => new m.SecretManagerServiceClient({ fallback: true }),
    );
    return clientPromise;
  };

  const refresh = (): Promise<readonly string[]> => {
    if (inflight !== undefined) return inflight;
    lastFetchStartedAt = now();
    const fetch = (async () => {
      try {
        const secrets = await withDeadline(
          getClient().then((client) => loadSecrets(client, secretName, secretId, timeoutMs)),
          timeoutMs,
          secretName,
        );
        const t = now();
        cache = { secrets, loadedAt: t };
        nextAttemptAt = t + refreshIntervalMs;
        consecutiveFailures = 0;
        lastError = undefined;
        return secrets;
      } catch (err) {
        const error = toUnavailable(err, secretName, secretId);
        consecutiveFailures += 1;
        lastError = error;
        const backoff = Math.min(minRefreshIntervalMs, INITIAL_FAILURE_BACKOFF_MS * 2 ** (consecutiveFailures - 1));
        nextAttemptAt = now() + backoff;
        throw error;
      } finally {
        inflight = undefined;
      }
    })();
    inflight = fetch;
    return fetch;
  };

  const background = (): void => {
    refresh().catch(() => {
      // Kept: the stale list stays in service; the error is remembered in lastError.
    });
  };

  return {
    async current(): Promise<readonly string[]> {
      if (closed) throw new SecretsUnavailableError('the Secret Manager signing-secret source is closed');
      const t = now();
      if (cache !== undefined && t - cache.loadedAt <= maxStaleMs) {
        if (t >= nextAttemptAt && inflight === undefined) background();
        return cache.secrets;
      }
      if (inflight !== undefined) return inflight;
      if (lastError !== undefined && t < nextAttemptAt) throw lastError;
      return refresh();
    },

    refreshAfterFailure(): void {
      if (closed || inflight !== undefined) return;
      if (lastFetchStartedAt !== undefined && now() - lastFetchStartedAt < minRefreshIntervalMs) return;
      background();
    },

    async settled(): Promise<void> {
      while (inflight !== undefined) {
        await inflight.catch(() => undefined);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await inflight?.catch(() => undefined);
      if (ownsClient && clientPromise !== undefined) {
        const client = await clientPromise.catch(() => undefined);
        await client?.close();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface VersionRef {
  name: string;
  number: number;
  createTimeMicros: bigint;
}

async function loadSecrets(
  client: SecretManagerServiceClient,
  secretName: string,
  secretId: string,
  timeoutMs: number,
): Promise<readonly string[]> {
  const deadline = Date.now() + timeoutMs;
  // `timeout` becomes the gRPC deadline of each attempt and (for methods with retry codes) the total retry
  // budget too (google-gax CallSettings.merge), so no call outlives the load's budget.
  // `autoPaginate: false` only silences google-gax's AutopaginateTrueWarning: the async iterator pages anyway.
  const callOptions = () => ({ timeout: Math.max(1, deadline - Date.now()), autoPaginate: false });

  const refs: VersionRef[] = [];
  let stage = 'list the versions of';
  try {
    // Auto-paging: the iterator requests further pages with next_page_token.
    for await (const version of client.listSecretVersionsAsync(
      { parent: secretName, filter: 'state:ENABLED' },
      callOptions(),
    )) {
      if (!isEnabled(version.state)) continue; // defensive: the filter already excludes them
      const name = version.name ?? '';
      refs.push({ name, number: versionNumber(name), createTimeMicros: timestampMicros(version.createTime) });
    }
    if (refs.length === 0) throw noEnabledVersions(secretName, secretId);

    refs.sort(
      (a, b) =>
        (a.createTimeMicros < b.createTimeMicros ? 1 : a.createTimeMicros > b.createTimeMicros ? -1 : 0) ||
        b.number - a.number,
    );

    stage = 'access the versions of';
    const values = await Promise.all(
      refs.map(async (ref) => {
        try {
          const [response] = await client.accessSecretVersion({ name: ref.name }, callOptions());
          return decodePayload(response.payload, ref.name, secretId);
        } catch (err) {
          // Disabled or destroyed between list and access (a rotation in progress): not a current secret.
          if (grpcCode(err) === Status.FAILED_PRECONDITION || grpcCode(err) === Status.NOT_FOUND) return undefined;
          throw err;
        }
      }),
    );
    const secrets = values.filter((v): v is string => v !== undefined);
    if (secrets.length === 0) throw noEnabledVersions(secretName, secretId);
    return secrets;
  } catch (err) {
    if (err instanceof SecretsUnavailableError) throw err;
    throw rpcFailure(err, stage, secretName, secretId);
  }
}

interface PayloadLike {
  data?: Uint8Array | string | null;
  dataCrc32c?: number | string | { toString(): string } | null;
  _dataCrc32c?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodePayload(payload: PayloadLike | null | undefined, versionName: string, secretId: string): string {
  const version = versionLabel(versionName);
  const raw = payload?.data;
  const data =
    raw === null || raw === undefined ? new Uint8Array(0) : typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;

  // proto3 `optional int64 data_crc32c`: present only when the writer supplied it. google-gax decodes with
  // oneofs, so presence shows as `_dataCrc32c === 'dataCrc32c'`; fall back to "non-null" otherwise.
  const sum = payload?.dataCrc32c;
  const present =
    payload?._dataCrc32c !== undefined ? payload._dataCrc32c === 'dataCrc32c' : sum !== null && sum !== undefined;
  if (present && sum !== null && sum !== undefined) {
    let expected: bigint | undefined;
    try {
      expected = BigInt(sum.toString());
    } catch {
      expected = undefined;
    }
    if (expected !== BigInt(crc32c(data))) {
      throw new SecretsUnavailableError(
        `Secret Manager payload of ${secretId} ${version} failed its CRC32C check (data_crc32c mismatch); ` +
          'the data was corrupted in transit or the stored checksum is wrong. Retrying later; if it persists, ' +
          'add the secret again as a new version and disable this one.',
      );
    }
  }

  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new SecretsUnavailableError(
      `${secretId} ${version} is not valid UTF-8 text; ` +
        'each ENABLED version must hold one signing secret like whsec_<base64>.',
    );
  }
  const secret = text.trim();
  if (secret === '') {
    throw new SecretsUnavailableError(
      `${secretId} ${version} is empty; each ENABLED version must hold one signing secret like whsec_<base64>. ` +
        `Disable it (gcloud secrets versions disable ${versionNumberText(versionName)} --secret=${secretId}) ` +
        'or add a proper version.',
    );
  }
  if (/[\s,]/.test(secret)) {
    throw new SecretsUnavailableError(
      `${secretId} ${version} holds more than one value (it contains whitespace or a comma); each ENABLED version ` +
        'must hold exactly one signing secret. Add one version per secret and disable this one.',
    );
  }
  return secret;
}

function noEnabledVersions(secretName: string, secretId: string): SecretsUnavailableError {
  return new SecretsUnavailableError(
    `Secret Manager secret ${secretName} has no ENABLED version, so no webhook signing secret is configured. ` +
      'Add the signing secret (whsec_...) as a version: ' +
      `gcloud secrets versions add ${secretId} --data-file=<file holding it> ` +
      '(or enable a disabled version).',
  );
}

function rpcFailure(err: unknown, stage: string, secretName: string, secretId: string): SecretsUnavailableError {
  const code = grpcCode(err);
  const status = code === undefined ? undefined : grpcStatusName(code);
  const detail = errorDetail(err);
  let hint: string;
  switch (status) {
    case 'PERMISSION_DENIED':
      hint =
        "Grant the receiver's service account roles/secretmanager.secretAccessor (to read versions) and " +
        'roles/secretmanager.viewer (to list versions: secretmanager.versions.list) on the secret, e.g. ' +
        `gcloud secrets add-iam-policy-binding ${secretId} ` +
        '--member=serviceAccount:<sa> --role=roles/secretmanager.secretAccessor' +
        ' (and the same with roles/secretmanager.viewer); also check that the Secret Manager API is enabled.';
      break;
    case 'NOT_FOUND':
      hint = 'Check WEBHOOK_SIGNING_SECRETS_SECRET: the secret (or its project) does not exist.';
      break;
    case 'UNAUTHENTICATED':
      hint = 'The receiver has no valid Google credentials (Application Default Credentials).';
      break;
    case 'DEADLINE_EXCEEDED':
    case 'UNAVAILABLE':
    case 'RESOURCE_EXHAUSTED':
    case 'ABORTED':
    case 'INTERNAL':
    case 'UNKNOWN':
    case 'CANCELLED':
      hint = 'Secret Manager is unreachable or overloaded; retrying shortly.';
      break;
    case 'FAILED_PRECONDITION':
      hint = 'Check that the Secret Manager API is enabled in the project and the secret is usable.';
      break;
    default:
      hint = 'Check WEBHOOK_SIGNING_SECRETS_SECRET and the Secret Manager API.';
  }
  return new SecretsUnavailableError(
    `Could not ${stage} Secret Manager secret ${secretName}` +
      `${status === undefined ? '' : ` (${status})`}${detail === '' ? '' : `: ${detail}`}. ${hint}`,
    { cause: err, ...(status === undefined ? {} : { grpcStatus: status }) },
  );
}

function toUnavailable(err: unknown, secretName: string, secretId: string): SecretsUnavailableError {
  return err instanceof SecretsUnavailableError ? err : rpcFailure(err, 'load', secretName, secretId);
}

/** The server's / library's error text. It never carries payload data (errors are produced before decoding). */
function errorDetail(err: unknown): string {
  const e = err as { details?: unknown; message?: unknown } | null | undefined;
  const text =
    typeof e?.details === 'string' && e.details !== '' ? e.details : typeof e?.message === 'string' ? e.message : '';
  return truncate(text.replace(/\s+/g, ' ').trim().replace(/\.+$/, ''), 300);
}

async function withDeadline<T>(work: Promise<T>, timeoutMs: number, secretName: string): Promise<T> {
  // The per-RPC deadlines should already bound the load; this guard covers anything outside an RPC
  // (credential lookup, client start-up) so `current()` can never hang.
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new SecretsUnavailableError(
          `Loading Secret Manager secret ${secretName} took longer than ${timeoutMs} ms (DEADLINE_EXCEEDED). ` +
            'Secret Manager or the credentials endpoint is unreachable; retrying shortly.',
          { grpcStatus: 'DEADLINE_EXCEEDED' },
        ),
      );
    }, timeoutMs + 250);
    timer.unref();
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // a late rejection after the guard fired must not be unhandled
  }
}

function isEnabled(state: unknown): boolean {
  return state === undefined || state === null || state === 'ENABLED' || state === 1;
}

function versionNumberText(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function versionNumber(name: string): number {
  const n = Number(versionNumberText(name));
  return Number.isSafeInteger(n) ? n : 0;
}

function versionLabel(name: string): string {
  return `version ${versionNumberText(name) || '?'}`;
}

/** A protobuf int64 (`Long`) that the client did not decode to a number or string; `toString()` gives its digits. */
interface LongLike {
  toString(): string;
}

function timestampMicros(ts: { seconds?: unknown; nanos?: unknown } | null | undefined): bigint {
  if (ts === null || ts === undefined) return 0n;
  let seconds = 0n;
  try {
    const s = ts.seconds;
    if (typeof s === 'number' || typeof s === 'string' || typeof s === 'bigint') seconds = BigInt(s);
    else if (s !== null && s !== undefined) seconds = BigInt((s as LongLike).toString());
  } catch {
    seconds = 0n;
  }
  const nanos = typeof ts.nanos === 'number' ? ts.nanos : 0;
  return seconds * 1_000_000n + BigInt(Math.trunc(nanos / 1000));
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Secret Manager uses for data_crc32c.
// node:zlib only has CRC-32 (IEEE), so a table-driven version here: payloads are a few dozen bytes.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
