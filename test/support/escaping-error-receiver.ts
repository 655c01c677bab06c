/**
 * A test fixture the Functions Framework CLI serves in place of functions/index.ts: the same
 * receiver, wired and registered the same way, with an event bus that lets an error escape
 * asynchronously (thrown from a callback, with nothing of ours on the stack to catch it) while it
 * publishes a delivery whose body contains ESCAPING_ERROR_MARKER. Once per delivery: which bodies
 * already failed is kept in ESCAPING_ERROR_STATE_DIR, so a restarted process does not fail them
 * again.
 *
 * RECEIVER_LEAVES_DOMAIN=true serves the handler as functions/index.ts once did, leaving the
 * framework's per-request `domain` before doing any work (docs/architecture.md, "The domain").
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as functions from '@google-cloud/functions-framework';
import { createReceiver } from '../../functions/app.ts';
import { frameworkPort, listensOn, takeOverRequestBodies } from '../../functions/body-takeover.ts';
import { loadConfig } from '../../functions/config.ts';

const stateDir = process.env['ESCAPING_ERROR_STATE_DIR'];
const marker = process.env['ESCAPING_ERROR_MARKER'];
if (!stateDir || !marker)
  throw new Error(
    'set ESCAPING_ERROR_STATE_DIR (where failed deliveries are remembered) ' +
      'and ESCAPING_ERROR_MARKER (what marks a body to fail)',
  );

const config = loadConfig(process.env);
takeOverRequestBodies(listensOn(frameworkPort()));
const receiver = await createReceiver(config, {
  wrapBus: (bus) => ({
    publish(route, data, attributes) {
      const seen = join(stateDir, createHash('sha256').update(data).digest('hex'));
      if (data.includes(marker) && !existsSync(seen)) {
        writeFileSync(seen, '');
        setImmediate(() => {
          throw new Error('injected: an error escaped asynchronously while publishing');
        });
      }
      return bus.publish(route, data, attributes);
    },
    close: () => bus.close(),
  }),
});

const leaveDomain = process.env['RECEIVER_LEAVES_DOMAIN'] === 'true';
functions.http('receiveWebhook', (req, res) => {
  if (leaveDomain) (process as { domain?: { exit(): void } | null }).domain?.exit();
  return receiver.handler(req, res);
});
