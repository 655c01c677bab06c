/**
 * A deliberately dumb HTTP/1.1 client over a raw socket, for requests a well-behaved client will
 * not send: repeated headers, any bytes, a declared length that never arrives, a body dripped one
 * byte at a time. One request per connection (`Connection: close`).
 */
import { connect } from 'node:net';

export interface RawRequest {
  method?: string;
  path?: string;
  /** Sent in order, repeats allowed; `Host` and `Connection: close` are added. */
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  /**
   * `auto` (default): Content-Length of the body; `chunked`: Transfer-Encoding: chunked; a number: that
   * Content-Length whatever is sent.
   */
  framing?: 'auto' | 'chunked' | number;
  /** Send the body one byte (or `dripBytes`) per interval instead of at once. */
  dripIntervalMs?: number;
  dripBytes?: number;
  /** Send only this many body bytes, then close the connection. */
  hangUpAfterBytes?: number;
  /** Send only this many body bytes, then send nothing more but wait for the answer. */
  stallAfterBytes?: number;
  /** Called once those bytes are handed to the operating system. */
  onStalled?: () => void;
  /**
   * Leave out `Connection: close`: the request then only completes once the server closes the
   * connection, so a server that keeps a half-received request open shows up as `timeout`.
   */
  keepAlive?: boolean;
}

export interface RawResponse {
  /** HTTP status, `closed` when the server hung up without an answer, `timeout` when it never answered. */
  status: number | 'closed' | 'timeout';
  headers: Record<string, string>;
  body: string;
}

export function sendRaw(port: number, request: RawRequest, timeoutMs = 60_000): Promise<RawResponse> {
  const body = request.body ?? Buffer.alloc(0);
  const framing = request.framing ?? 'auto';
  const lines = [`${request.method ?? 'POST'} ${request.path ?? '/'} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  if (!request.keepAlive) lines.push('Connection: close');
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  else if (framing === 'auto') {
    if (body.length > 0 || (request.method ?? 'POST') === 'POST') lines.push(`Content-Length: ${body.length}`);
  } else lines.push(`Content-Length: ${framing}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let answered = false;
    let drip: NodeJS.Timeout | undefined;
    const finish = (result: RawResponse): void => {
      clearTimeout(timer);
      clearInterval(drip);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ status: 'timeout', headers: {}, body: '' }), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      answered = true;
      if (!request.keepAlive) clearInterval(drip);
      received.push(chunk);
    });
    socket.on('error', () => {
      // ECONNRESET after the answer is normal for a server closing early; parse what arrived.
    });
    socket.on('close', () => finish(parse(Buffer.concat(received), answered)));
    socket.on('connect', () => {
      socket.write(head);
      const payload = framing === 'chunked' ? chunked(body) : body;
      if (request.hangUpAfterBytes !== undefined) {
        socket.write(payload.subarray(0, request.hangUpAfterBytes), () => setTimeout(() => socket.destroy(), 200));
        return;
      }
      if (request.stallAfterBytes !== undefined) {
        socket.write(payload.subarray(0, request.stallAfterBytes), () => request.onStalled?.());
        return;
      }
      if (request.dripIntervalMs === undefined) {
        socket.write(payload);
        return;
      }
      let offset = 0;
      drip = setInterval(() => {
        // A keep-alive client goes on dripping after the answer, as a slowloris would.
        if ((answered && !request.keepAlive) || socket.destroyed || offset >= payload.length)
          return clearInterval(drip);
        const step = request.dripBytes ?? 1;
        socket.write(payload.subarray(offset, offset + step));
        offset += step;
      }, request.dripIntervalMs);
    });
  });
}

function chunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  const size = 16 * 1024;
  for (let offset = 0; offset < body.length; offset += size) {
    const piece = body.subarray(offset, offset + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function parse(raw: Buffer, answered: boolean): RawResponse {
  const text = raw.toString('latin1');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!answered || !match) return { status: 'closed', headers: {}, body: '' };
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text
    .slice(0, end === -1 ? undefined : end)
    .split('\r\n')
    .slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers, body: end === -1 ? '' : text.slice(end + 4) };
}
