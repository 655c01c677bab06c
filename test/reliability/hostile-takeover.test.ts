/**
 * The body takeover touches the receiver's own server only. The adversarial pass found it removed
 * the Content-Type of requests to every Express server in the process, so a neighbouring route with
 * `express.json()` lost its parsed body. Both servers here are the Functions Framework's own
 * (getTestServer): Express with body-parser's JSON parser, which is what `express.json()` is.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { listensOn, takeOverRequestBodies } from '../../functions/body-takeover.ts';
import { recordFigures } from './figures.ts';

/** What a handler saw of a request: whether a parser ran before it, and what it parsed. */
function describeRequest(req: functions.Request, res: functions.Response): void {
  res.json({
    contentType: req.headers['content-type'] ?? null,
    parsed: req.rawBody !== undefined,
    body: (req.body as unknown) ?? null,
  });
}

functions.http('takeoverReceiver', describeRequest);
functions.http('takeoverNeighbour', describeRequest);

const receiver = getTestServer('takeoverReceiver');
const neighbour = getTestServer('takeoverNeighbour');
let removeTakeover: () => void;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

let receiverPort: number;
let neighbourPort: number;

before(async () => {
  receiverPort = await listen(receiver);
  neighbourPort = await listen(neighbour);
  // As functions/index.ts installs it: for the server listening on the receiver's port.
  removeTakeover = takeOverRequestBodies(listensOn(receiverPort));
});

after(async () => {
  removeTakeover();
  for (const server of [receiver, neighbour]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function post(port: number): Promise<{ contentType: string | null; parsed: boolean; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"hello":"world"}',
  });
  return (await response.json()) as { contentType: string | null; parsed: boolean; body: unknown };
}

test("the receiver's server: the framework's parsers never see the body", async () => {
  assert.deepEqual(await post(receiverPort), { contentType: null, parsed: false, body: null });
});

test('a neighbouring Express server with a JSON parser in the same process keeps its parsed body', async () => {
  assert.deepEqual(await post(neighbourPort), {
    contentType: 'application/json',
    parsed: true,
    body: { hello: 'world' },
  });
  recordFigures('hostile-takeover', { hostileCasesTried: 1 });
});

test('removed, the takeover leaves every server alone', async () => {
  removeTakeover();
  assert.equal((await post(receiverPort)).parsed, true);
  removeTakeover = takeOverRequestBodies(listensOn(receiverPort));
  assert.equal((await post(receiverPort)).parsed, false);
});
