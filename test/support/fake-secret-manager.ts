// An in-memory Secret Manager (google.cloud.secretmanager.v1.SecretManagerService) served on 127.0.0.1 over
// both of the client's transports, so tests drive the real `@google-cloud/secret-manager` client (google-gax,
// auto-paging, call deadlines, retries) end to end:
// - gRPC (`start()`, `client()`);
// - REST, HTTP/1.1 with JSON, as google-gax's `fallback` mode speaks it (`startRest()`, `restClient()`): the
//   HTTP rules of the service proto (GET /v1/{parent=projects/*/secrets/*}/versions, GET
//   /v1/{name=projects/*/secrets/*/versions/*}:access), messages in the proto3 JSON mapping
//   (https://protobuf.dev/programming-guides/json/), and errors as Google's JSON error body with the HTTP status
//   of the gRPC code (https://cloud.google.com/apis/design/errors#http_mapping).
// Both fronts share one store, one set of injected failures and one call count. Only the RPCs the
// signing-secret loader uses are implemented; every other RPC answers UNIMPLEMENTED.
//
// The protos are the ones shipped inside the installed packages: the service protos from
// `@google-cloud/secret-manager/build/protos`, their imports (google/api, google/iam, google/rpc,
// google/protobuf) from `google-gax/build/protos`.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { v1 } from '@google-cloud/secret-manager';
import { googleAuthLibrary } from 'google-gax';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { crc32c } from '../../functions/secrets/secret-manager.ts';
import { clientProtoDirs } from './client-protos.ts';

const { clientProtos: secretManagerProtos, gaxProtos } = clientProtoDirs('@google-cloud/secret-manager');

export type FakeVersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';
export type FakeMethod = 'ListSecretVersions' | 'AccessSecretVersion';

export interface FakeVersion {
  /** Version number (1, 2, ...), as in `.../versions/<n>`. */
  readonly number: number;
  /** Full resource name `projects/<p>/secrets/<id>/versions/<n>`. */
  readonly name: string;
  state: FakeVersionState;
  /** Milliseconds since the epoch. */
  createTimeMs: number;
  payload: Buffer;
  /** Sent as `payload.data_crc32c`; `'absent'` omits the field, `'wrong'` sends a bad checksum. */
  checksum: 'correct' | 'absent' | 'wrong';
}

export interface FakeFailure {
  code: grpc.status;
  details: string;
}

export interface FakeSecretManagerOptions {
  /** Secret resource served; default `projects/test-project/secrets/webhook-signing-secrets`. */
  secretName?: string;
  /** Server-side page size cap for ListSecretVersions (0 = everything in one page). */
  pageSize?: number;
}

interface ListRequest {
  parent: string;
  pageSize: number;
  pageToken: string;
  filter: string;
}

interface AccessRequest {
  name: string;
}

type UnaryHandler = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

export class FakeSecretManager {
  readonly secretName: string;
  /** Server-side page size cap for ListSecretVersions (0 = everything in one page). */
  pageSize: number;
  /** When false, every RPC for the secret answers NOT_FOUND. */
  secretExists = true;
  /** Per-method injected failure; applied before any other processing. */
  readonly failures = new Map<FakeMethod, FakeFailure>();
  /** Methods whose calls are accepted but never answered (until the server shuts down). */
  readonly hanging = new Set<FakeMethod>();
  /** Number of calls received, per method (including failed and hung ones). */
  readonly calls: Record<FakeMethod, number> = { ListSecretVersions: 0, AccessSecretVersion: 0 };
  /** Called after each ListSecretVersions page is computed (e.g. to disable a version mid-load). */
  afterList: (() => void) | undefined;
  /** `filter` of every ListSecretVersions request received (one entry per page request). */
  readonly listFilters: string[] = [];
  /** `page_token` of every ListSecretVersions request received. */
  readonly listPageTokens: string[] = [];

  readonly #versions: FakeVersion[] = [];
  #server: grpc.Server | undefined;
  #port = 0;
  #rest: Server | undefined;
  #restPort = 0;
  #clock = Date.UTC(2026, 0, 1);

  constructor(opts: FakeSecretManagerOptions = {}) {
    this.secretName = opts.secretName ?? 'projects/test-project/secrets/webhook-signing-secrets';
    this.pageSize = opts.pageSize ?? 0;
  }

  get port(): number {
    if (this.#server === undefined) throw new Error('fake Secret Manager not started');
    return this.#port;
  }

  get versions(): readonly FakeVersion[] {
    return this.#versions;
  }

  /** Adds a version (create time strictly after every earlier one unless given). */
  addVersion(
    value: string | Buffer,
    opts: { state?: FakeVersionState; createTimeMs?: number; checksum?: FakeVersion['checksum'] } = {},
  ): FakeVersion {
    this.#clock += 1000;
    const number = this.#versions.length + 1;
    const version: FakeVersion = {
      number,
      name: `${this.secretName}/versions/${number}`,
      state: opts.state ?? 'ENABLED',
      createTimeMs: opts.createTimeMs ?? this.#clock,
      payload: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      checksum: opts.checksum ?? 'correct',
    };
    this.#versions.push(version);
    return version;
  }

  setState(number: number, state: FakeVersionState): void {
    const version = this.#versions.find((v) => v.number === number);
    if (version === undefined) throw new Error(`no version ${number}`);
    version.state = state;
  }

  fail(method: FakeMethod, code: grpc.status, details = `injected ${grpc.status[code]}`): void {
    this.failures.set(method, { code, details });
  }

  /** Every RPC fails with `code`. */
  failAll(code: grpc.status, details?: string): void {
    this.fail('ListSecretVersions', code, details);
    this.fail('AccessSecretVersion', code, details);
  }

  heal(): void {
    this.failures.clear();
    this.hanging.clear();
  }

  totalCalls(): number {
    return this.calls.ListSecretVersions + this.calls.AccessSecretVersion;
  }

  async start(): Promise<this> {
    const definition = protoLoader.loadSync('google/cloud/secretmanager/v1/service.proto', {
      includeDirs: [secretManagerProtos, gaxProtos],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      google: { cloud: { secretmanager: { v1: { SecretManagerService: grpc.ServiceClientConstructor } } } };
    };
    const service = loaded.google.cloud.secretmanager.v1.SecretManagerService.service;

    const handlers: Record<string, UnaryHandler> = {};
    for (const [methodName, method] of Object.entries(service)) {
      handlers[method.originalName ?? methodName] = (_call, callback) =>
        callback({ code: grpc.status.UNIMPLEMENTED, details: `fake Secret Manager: ${methodName} not implemented` });
    }
    handlers['listSecretVersions'] = (call, callback) =>
      this.#guard('ListSecretVersions', callback, () => this.#list(call.request as ListRequest));
    handlers['accessSecretVersion'] = (call, callback) =>
      this.#guard('AccessSecretVersion', callback, () => this.#access(call.request as AccessRequest));

    const server = new grpc.Server();
    server.addService(service, handlers);
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.#server = server;
    return this;
  }

  /**
   * A real `SecretManagerServiceClient` pointed at this server: plaintext channel (`sslCreds` = insecure
   * credentials, which also bypasses Google auth), and an explicit `universeDomain` so google-gax never looks
   * for Application Default Credentials or the metadata server.
   */
  client(): SecretManagerServiceClient {
    return new v1.SecretManagerServiceClient({
      apiEndpoint: '127.0.0.1',
      port: this.port,
      sslCreds: grpc.credentials.createInsecure(),
      universeDomain: 'googleapis.com',
      fallback: false,
    });
  }

  get restPort(): number {
    if (this.#rest === undefined) throw new Error('fake Secret Manager REST front not started');
    return this.#restPort;
  }

  /**
   * Serves the REST front on 127.0.0.1: plain HTTP, or HTTPS with `tls` (for a client that dials
   * https://secretmanager.googleapis.com and is led here).
   */
  async startRest(opts: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<number> {
    const listener = (req: IncomingMessage, res: ServerResponse): void => this.#serveRest(req, res);
    const server = opts.tls === undefined ? createHttpServer(listener) : createHttpsServer(opts.tls, listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#rest = server;
    this.#restPort = (server.address() as { port: number }).port;
    return this.#restPort;
  }

  /**
   * A real `SecretManagerServiceClient` in REST mode (`fallback: true`) pointed at the REST front over plain
   * HTTP, with google-auth-library's PassThroughClient (no credentials, made for emulators), so nothing
   * looks for Application Default Credentials or the metadata server.
   */
  restClient(port = this.restPort): SecretManagerServiceClient {
    return new v1.SecretManagerServiceClient({
      fallback: true,
      apiEndpoint: '127.0.0.1',
      port,
      protocol: 'http',
      authClient: new googleAuthLibrary.PassThroughClient(),
      universeDomain: 'googleapis.com',
    });
  }

  /** Stops both fronts immediately, cancelling hung calls. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.forceShutdown();
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest !== undefined) {
      rest.closeAllConnections();
      await new Promise((resolve) => rest.close(resolve));
    }
  }

  #guard(method: FakeMethod, callback: grpc.sendUnaryData<unknown>, handle: () => unknown): void {
    const outcome = this.#outcome(method, handle);
    if (outcome === 'hang') return; // never answered; forceShutdown() cancels it
    if ('code' in outcome) callback({ code: outcome.code, details: outcome.details });
    else callback(null, outcome.value);
  }

  /** What a call gets, whichever front it came in on: an injected failure, no answer, or the handler's. */
  #outcome(method: FakeMethod, handle: () => unknown): Outcome {
    this.calls[method] += 1;
    const failure = this.failures.get(method);
    if (failure !== undefined) return failure;
    if (this.hanging.has(method)) return 'hang';
    try {
      return { value: handle() };
    } catch (err) {
      if (err instanceof RpcError) return { code: err.code, details: err.message };
      return { code: grpc.status.INTERNAL, details: String(err) };
    }
  }

  #serveRest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
    };
    const list = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions$/.exec(path);
    const access = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/:]+):access$/.exec(path);
    let outcome: Outcome;
    if (req.method === 'GET' && list !== null) {
      const q = url.searchParams;
      outcome = this.#outcome('ListSecretVersions', () =>
        restListResponse(
          this.#list({
            parent: list[1]!,
            filter: q.get('filter') ?? '',
            pageSize: Number(q.get('pageSize') ?? 0),
            pageToken: q.get('pageToken') ?? '',
          }) as GrpcListResponse,
        ),
      );
    } else if (req.method === 'GET' && access !== null) {
      outcome = this.#outcome('AccessSecretVersion', () =>
        restAccessResponse(this.#access({ name: access[1]! }) as GrpcAccessResponse),
      );
    } else {
      outcome = {
        code: grpc.status.UNIMPLEMENTED,
        details: `fake Secret Manager: ${req.method} ${path} not implemented`,
      };
    }
    req.resume();
    if (outcome === 'hang') return; // never answered; close() ends the connection
    if ('code' in outcome) {
      const status = grpc.status[outcome.code] ?? 'UNKNOWN';
      const http = HTTP_STATUS_OF[outcome.code] ?? 500;
      send(http, { error: { code: http, message: outcome.details, status } });
    } else send(200, outcome.value);
  }

  #list(request: ListRequest): unknown {
    this.listFilters.push(request.filter);
    this.listPageTokens.push(request.pageToken);
    if (!this.secretExists || request.parent !== this.secretName) {
      throw new RpcError(grpc.status.NOT_FOUND, `Secret [${request.parent}] not found or has no versions.`);
    }
    let matching = [...this.#versions];
    if (request.filter !== '') {
      const m = /^state:(ENABLED|DISABLED|DESTROYED)$/.exec(request.filter.trim());
      if (m === null) throw new RpcError(grpc.status.INVALID_ARGUMENT, `unsupported filter ${request.filter}`);
      matching = matching.filter((v) => v.state === m[1]);
    }
    // The real service returns newest first; the loader must not rely on it, so the fake returns ascending
    // version numbers (oldest first) to prove the loader sorts.
    matching.sort((a, b) => a.number - b.number);
    const offset = request.pageToken === '' ? 0 : Number(request.pageToken);
    const limit =
      this.pageSize > 0
        ? request.pageSize > 0
          ? Math.min(this.pageSize, request.pageSize)
          : this.pageSize
        : request.pageSize > 0
          ? request.pageSize
          : matching.length;
    const page = matching.slice(offset, offset + limit);
    const next = offset + limit < matching.length ? String(offset + limit) : '';
    const response = {
      versions: page.map((v) => ({
        name: v.name,
        createTime: { seconds: String(Math.floor(v.createTimeMs / 1000)), nanos: (v.createTimeMs % 1000) * 1e6 },
        state: v.state,
      })),
      nextPageToken: next,
      totalSize: matching.length,
    };
    this.afterList?.();
    return response;
  }

  #access(request: AccessRequest): unknown {
    const version = this.#versions.find((v) => v.name === request.name);
    if (!this.secretExists || version === undefined) {
      throw new RpcError(grpc.status.NOT_FOUND, `Secret Version [${request.name}] not found.`);
    }
    if (version.state !== 'ENABLED') {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `Secret Version [${request.name}] is in ${version.state} state.`,
      );
    }
    const payload: { data: Buffer; dataCrc32c?: string } = { data: version.payload };
    if (version.checksum !== 'absent') {
      const sum = crc32c(version.payload);
      payload.dataCrc32c = String(version.checksum === 'correct' ? sum : (sum + 1) % 2 ** 32);
    }
    return { name: version.name, payload };
  }
}

type Outcome = FakeFailure | { value: unknown } | 'hang';

interface GrpcListResponse {
  versions: Array<{ name: string; createTime: { seconds: string; nanos: number }; state: string }>;
  nextPageToken: string;
  totalSize: number;
}

interface GrpcAccessResponse {
  name: string;
  payload: { data: Buffer; dataCrc32c?: string };
}

/** proto3 JSON: Timestamp as RFC 3339, empty strings left out. */
function restListResponse(response: GrpcListResponse): unknown {
  return {
    versions: response.versions.map((v) => ({
      ...v,
      createTime: new Date(Number(v.createTime.seconds) * 1000 + v.createTime.nanos / 1e6).toISOString(),
    })),
    ...(response.nextPageToken !== '' && { nextPageToken: response.nextPageToken }),
    totalSize: response.totalSize,
  };
}

/** proto3 JSON: bytes as base64, int64 as a decimal string. */
function restAccessResponse(response: GrpcAccessResponse): unknown {
  return { name: response.name, payload: { ...response.payload, data: response.payload.data.toString('base64') } };
}

/** The HTTP status Google's APIs answer for each gRPC code (google/rpc/code.proto). */
const HTTP_STATUS_OF: Partial<Record<grpc.status, number>> = {
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNKNOWN]: 500,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.ABORTED]: 409,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DATA_LOSS]: 500,
};

class RpcError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

export async function startFakeSecretManager(opts?: FakeSecretManagerOptions): Promise<FakeSecretManager> {
  return new FakeSecretManager(opts).start();
}
