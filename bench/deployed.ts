/**
 * The receiver exactly as it is deployed, for the cold-start bench:
 *
 * - the archive the Pulumi program uploads (infra/archive.ts), written to a temporary directory
 *   and installed the way Cloud Build installs it: `npm ci` from the archive's own lockfile
 *   (offline, from the npm cache the repository's install filled), then the archive's
 *   `gcp-build` script when it has one, as Google's Node.js buildpack runs it
 *   (https://cloud.google.com/docs/buildpacks/nodejs#executing_custom_build_steps_during_deployment);
 *   and served by the Functions Framework CLI *it* installed;
 * - signing secrets from the Secret Manager source (`WEBHOOK_SIGNING_SECRETS_SECRET`), answered by
 *   the fake Secret Manager of test/support. The receiver has no endpoint setting for Secret
 *   Manager, and gets none for the bench: its real client dials secretmanager.googleapis.com:443
 *   over TLS with credentials from the metadata server, as on Cloud Run. Here
 *   `GCE_METADATA_HOST` points the auth library at a local metadata server that hands out an
 *   access token, and the connection to Secret Manager is led to the fake, which holds a
 *   certificate made for the run:
 *   - over REST (the receiver's transport), bench/secret-manager-redirect/ opens the TLS
 *     connection to the fake's HTTPS front instead (`NODE_OPTIONS=--import`), and
 *     `NODE_EXTRA_CA_CERTS` trusts the certificate;
 *   - over gRPC, gRPC's own proxy setting (`grpc_proxy`) sends it to a local CONNECT proxy that
 *     ends TLS and forwards to the fake's gRPC front.
 *   Everything else the receiver does on the way to its first answer is the deployed code path,
 *   unchanged.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { buildReceiverSource, DEFAULT_SOURCE_OPTIONS } from '../infra/archive.ts';
import { startFakeSecretManager, type FakeSecretManager } from '../test/support/fake-secret-manager.ts';
import { deployedJavaScript, type Contestant } from './processes.ts';

export interface DeployedReceiver {
  contestant: Contestant;
  /** Archive files and their total size, for the record. */
  files: string[];
  bytes: number;
  /** Seconds `npm ci` (and `gcp-build`) took. */
  installSeconds: number;
  remove(): void;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd} ` +
        `(${result.status ?? result.signal}): ${`${result.stdout}\n${result.stderr}`.trim().slice(-1500)}`,
    );
  }
}

/** Builds the deployable archive and installs it as Cloud Build would. */
export function installDeployedReceiver(): DeployedReceiver {
  const dir = mkdtempSync(join(tmpdir(), 'bench-deployed-receiver-'));
  const archive = buildReceiverSource(DEFAULT_SOURCE_OPTIONS);
  let bytes = 0;
  for (const [name, content] of archive.files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
    bytes += Buffer.byteLength(content);
  }
  const started = performance.now();
  // Cloud Build runs `npm ci` for a package-lock.json; the build happens offline here, from the cache.
  run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  // The buildpack sets NODE_ENV=production for the build too (it is not in the archive's env).
  if (pkg.scripts?.['gcp-build'] !== undefined)
    run('npm', ['run', 'gcp-build'], dir, { ...process.env, NODE_ENV: 'production' });
  return {
    contestant: {
      key: 'ours',
      label: '(a) this receiver, as deployed',
      source: dir,
      cli: join(dir, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js'),
      cwd: dir,
    },
    files: [...archive.files.keys()],
    bytes,
    installSeconds: Math.round((performance.now() - started) / 100) / 10,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A CONNECT proxy that ends TLS for `certificate` and forwards the plaintext to `targetPort`. */
function startTlsTerminatingProxy(certificate: { key: Buffer; cert: Buffer }, targetPort: number): Promise<Server> {
  const server = createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      if (!head.subarray(0, end).toString('latin1').startsWith('CONNECT ')) {
        socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      const tls = new TLSSocket(socket, { isServer: true, ...certificate, ALPNProtocols: ['h2'] });
      // Without Nagle's algorithm on both legs: with it, every small gRPC frame waited out the peer's
      // delayed ACK (about 40 ms per RPC here), a stall the real Secret Manager does not have.
      socket.setNoDelay(true);
      const upstream = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
      tls.pipe(upstream).pipe(tls);
      const close = (): void => {
        tls.destroy();
        upstream.destroy();
      };
      tls.once('error', close).once('close', close);
      upstream.once('error', close).once('close', close);
    };
    socket.on('data', onData);
    socket.once('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Enough of the metadata server for Google's auth library: an access token and the universe domain. */
function startMetadataServer(): Promise<HttpServer> {
  const server = createHttpServer((req, res) => {
    res.setHeader('Metadata-Flavor', 'Google');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403).end('Missing Metadata-Flavor header');
    } else if (req.url?.startsWith('/computeMetadata/v1/instance/service-accounts/default/token')) {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ access_token: 'bench-token', expires_in: 3599, token_type: 'Bearer' }));
    } else if (req.url?.startsWith('/computeMetadata/v1/universe/universe-domain')) {
      res.end('googleapis.com');
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const SECRET_HOST = 'secretmanager.googleapis.com';

export interface SecretManagerWorld {
  /** Environment for the receiver process: its secret's name and the wiring described above. */
  env: Record<string, string>;
  fake: FakeSecretManager;
  close(): Promise<void>;
}

/** The fake Secret Manager holding `secret`, reachable the way a deployed receiver dials Secret Manager. */
export async function startSecretManagerWorld(project: string, secret: string): Promise<SecretManagerWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-secret-manager-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const openssl = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${SECRET_HOST}`,
      '-addext',
      `subjectAltName=DNS:${SECRET_HOST}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (openssl.status !== 0)
    throw new Error(
      'the cold-start bench needs the openssl command for a TLS certificate ' +
        `(apt-get install openssl): ${openssl.error?.message ?? openssl.stderr}`,
    );
  const certificate = { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  const secretName = `projects/${project}/secrets/bench-signing-secrets`;
  const fake = await startFakeSecretManager({ secretName });
  fake.addVersion(secret);
  const restPort = await fake.startRest({ tls: certificate });
  const proxy = await startTlsTerminatingProxy(certificate, fake.port);
  const metadata = await startMetadataServer();
  const port = (server: Server | HttpServer): number => (server.address() as { port: number }).port;
  const sockets = new Set<Socket>();
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    env: {
      WEBHOOK_SIGNING_SECRETS_SECRET: secretName,
      // REST:
      NODE_OPTIONS: `--import=${deployedJavaScript('secret-manager-redirect')}`,
      BENCH_SECRET_MANAGER_ADDRESS: `127.0.0.1:${restPort}`,
      NODE_EXTRA_CA_CERTS: certFile,
      // gRPC:
      grpc_proxy: `http://127.0.0.1:${port(proxy)}`,
      // The Pub/Sub backend is on loopback: only Secret Manager goes through the proxy.
      no_grpc_proxy: '127.0.0.1,localhost',
      GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certFile,
      GCE_METADATA_HOST: `127.0.0.1:${port(metadata)}`,
      METADATA_SERVER_DETECTION: 'assume-present',
    },
    fake,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
      metadata.closeAllConnections();
      await new Promise((resolve) => metadata.close(resolve));
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
