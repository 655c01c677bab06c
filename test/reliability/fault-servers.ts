/**
 * Dependencies that misbehave on cue, on loopback, at a fixed port so the receiver keeps its
 * configuration across the faults:
 * - FlakyJwks: a JWKS endpoint that is down (port closed), slow, serving garbage, failing, or fine;
 * - TcpGate: a TCP forwarder that is closed (connection refused) until opened, to make a gRPC
 *   server (the fake Secret Manager) unreachable and then reachable on the same address.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { JWK } from 'jose';

export type JwksMode = 'down' | 'slow' | 'garbage' | 'not-a-key-set' | 'error' | 'up';

export class FlakyJwks {
  readonly port: number;
  readonly url: string;
  #mode: JwksMode = 'down';
  #server: HttpServer | undefined;
  readonly #document: string;
  readonly #slowMs: number;
  requests = 0;

  constructor(port: number, keys: readonly JWK[], options: { slowMs?: number } = {}) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    this.#document = JSON.stringify({ keys });
    this.#slowMs = options.slowMs ?? 4000;
  }

  get mode(): JwksMode {
    return this.#mode;
  }

  async set(mode: JwksMode): Promise<void> {
    this.#mode = mode;
    if (mode === 'down') await this.#close();
    else if (!this.#server) await this.#listen();
  }

  async close(): Promise<void> {
    await this.#close();
  }

  #listen(): Promise<void> {
    const server = createHttpServer((req, res) => {
      this.requests++;
      switch (this.#mode) {
        case 'slow': {
          const timer = setTimeout(
            () => res.writeHead(200, { 'content-type': 'application/json' }).end(this.#document),
            this.#slowMs,
          );
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' }).end('<html>\u0000\u00ff not json');
          return;
        case 'not-a-key-set':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":"nope"}');
          return;
        case 'error':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end(this.#document);
      }
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}

export class TcpGate {
  readonly port: number;
  readonly #target: number;
  #server: NetServer | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(port: number, targetPort: number) {
    this.port = port;
    this.#target = targetPort;
  }

  open(): Promise<void> {
    const server = createNetServer((client) => {
      const upstream = connect(this.#target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
