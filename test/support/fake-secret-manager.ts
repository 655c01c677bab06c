// An in-memory Secret Manager (google.cloud.secretmanager.v1.SecretManagerService) served over real gRPC on
// 127.0.0.1, so tests drive the real `@google-cloud/secret-manager` client (google-gax, auto-paging, call
// deadlines, retries) end to end. Only the RPCs the signing-secret loader uses are implemented; every other
// RPC answers UNIMPLEMENTED.
//
// The protos are the ones shipped inside the installed packages: the service protos from
// `@google-cloud/secret-manager/build/protos`, their imports (google/api, google/iam, google/rpc,
// google/protobuf) from `google-gax/build/protos`.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { v1 } from '@google-cloud/secret-manager';
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

  /** Stops the server immediately, cancelling hung calls. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.forceShutdown();
  }

  #guard(method: FakeMethod, callback: grpc.sendUnaryData<unknown>, handle: () => unknown): void {
    this.calls[method] += 1;
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      callback({ code: failure.code, details: failure.details });
      return;
    }
    if (this.hanging.has(method)) return; // never answered; forceShutdown() cancels it
    try {
      callback(null, handle());
    } catch (err) {
      if (err instanceof RpcError) callback({ code: err.code, details: err.message });
      else callback({ code: grpc.status.INTERNAL, details: String(err) });
    }
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
