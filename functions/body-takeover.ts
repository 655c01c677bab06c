/**
 * Keeps the Functions Framework's body parsers away from webhook bodies.
 *
 * The framework runs body-parser (json, text, urlencoded, then raw for any other type) before our
 * handler on every request that has a Content-Type. body-parser buffers up to 1 GiB with no time
 * limit, so a body dripped byte by byte holds the request until Cloud Run's request timeout; and
 * it answers 400/415 itself (before any verification) for bodies it cannot parse: bad JSON, an
 * unknown charset or encoding, even when the delivery is validly signed, so such a delivery could
 * never be published. docs/architecture.md has the details and the tests that show it.
 *
 * So the Content-Type is taken off each request of the receiver's own server as the request
 * starts, before the framework's middleware runs; body-parser then skips the request, and
 * functions/body-reader.ts reads the raw bytes itself, bounded in size, time and memory. Nothing
 * downstream needs the Content-Type: the body is published byte for byte whatever it claims to be.
 *
 * The hook sees the requests of every HTTP server in the process, so it touches only the servers
 * the caller names (functions/index.ts: the one listening on the framework's port, as the
 * framework itself decides it: `frameworkPort`). Any other server in the process, an Express app
 * with `express.json()` for instance, keeps its parsing.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type ParseOptions = (argv: readonly string[], env: NodeJS.ProcessEnv) => { port: unknown };

/**
 * The port the Functions Framework serves this process's function on, decided by the framework's
 * own option parser from the same command line and environment: `--port` (either spelling), else
 * `PORT`, else 8080. Comparing with `PORT` alone missed `--port=N` without `PORT`, and the
 * takeover then covered no server at all, silently (issue 20).
 *
 * The parser is not part of the package's exported API (its `exports` list only the API and
 * `testing`), so it is loaded from beside the main module, as the framework's own CLI is;
 * test/reliability/hostile-takeover.test.ts starts the CLI with `--port` and no `PORT` to prove it.
 */
export function frameworkPort(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): number {
  const require = createRequire(import.meta.url);
  const options = join(dirname(require.resolve('@google-cloud/functions-framework')), 'options.js');
  const { parseOptions } = require(options) as { parseOptions: ParseOptions };
  const port = Number(parseOptions(argv, env).port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`the Functions Framework's port is not a port number (${String(port)})`);
  return port;
}

const REQUEST_START = 'http.server.request.start';

/** True when `server` is listening on `port`: how the entry point recognises its own server. */
export function listensOn(port: number): (server: Server) => boolean {
  return (server) => {
    const address = server.address();
    return address !== null && typeof address === 'object' && address.port === port;
  };
}

/**
 * Takes the body away from the framework's parsers on the servers `isReceiverServer` accepts
 * (asked once per server). Returns the function that removes the takeover again.
 */
export function takeOverRequestBodies(isReceiverServer: (server: Server) => boolean): () => void {
  const decided = new WeakMap<Server, boolean>();
  const onRequestStart = (message: unknown): void => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    if (request.headers['content-type'] === undefined) return;
    let ours = decided.get(server);
    if (ours === undefined) {
      ours = isReceiverServer(server);
      decided.set(server, ours);
    }
    if (ours) delete request.headers['content-type'];
  };
  subscribe(REQUEST_START, onRequestStart);
  return () => unsubscribe(REQUEST_START, onRequestStart);
}
