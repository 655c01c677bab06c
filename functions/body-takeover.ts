/**
 * Keeps the Functions Framework's body-parser away from webhook bodies.
 *
 * The framework runs body-parser before our handler on every request that has a
 * Content-Type. body-parser buffers up to 1 GiB with no time limit, so a body dripped byte by byte
 * holds the request until Node's 5-minute request timeout, and it answers 400/415 itself (HTML,
 * before any verification) for bodies it cannot parse: bad JSON, an unknown charset or encoding,
 * even when the delivery is validly signed, so such a delivery could never be published.
 * (Found by test/reliability/hostile.test.ts.)
 *
 * So the Content-Type is taken off each request as it starts, before the framework's middleware
 * runs; body-parser then skips the request and the receiver's readBody reads the raw bytes itself: bounded
 * in size (maxBodyBytes), in time (bodyTimeoutMs) and in number (maxInFlight). Nothing downstream
 * needs the Content-Type: the body is published byte for byte whatever it claims to be.
 *
 * The hook sees the requests of every HTTP server in the process, so it only touches servers whose
 * request listener is an Express app (the Functions Framework's); deployed, that is the only one.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';

let installed = false;
const expressServers = new WeakMap<Server, boolean>();

function servesExpressApp(server: Server): boolean {
  let known = expressServers.get(server);
  if (known === undefined) {
    known = server
      .listeners('request')
      .some((listener) => typeof (listener as { handle?: unknown }).handle === 'function' && typeof (listener as { use?: unknown }).use === 'function');
    expressServers.set(server, known);
  }
  return known;
}

export function takeOverRequestBodies(): void {
  if (installed) return;
  installed = true;
  subscribe('http.server.request.start', (message) => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    if (request.headers['content-type'] !== undefined && servesExpressApp(server)) delete request.headers['content-type'];
  });
}

