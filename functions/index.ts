/**
 * Functions Framework entry point (target `receiveWebhook`), for Cloud Run functions and for the
 * local stack alike. Configuration is read once, at start; a bad value stops the instance with
 * one line saying what to fix.
 *
 * The handler runs inside the framework's per-request `domain`, as the framework sets it up: an
 * error that escapes asynchronously then costs one 500 for its request, not the whole instance
 * with every delivery in flight on it. That costs some CPU per request; the measurement behind the
 * choice is in docs/architecture.md ("The framework's domain") and
 * test/reliability/escaping-error.test.ts.
 */
import * as functions from '@google-cloud/functions-framework';
import { createReceiver } from './app.ts';
import { frameworkPort, listensOn, takeOverRequestBodies } from './body-takeover.ts';
import { ConfigError, loadConfig } from './config.ts';
import { KeyFormatError } from './verify/keys.ts';

async function start() {
  try {
    const config = loadConfig(process.env);
    // The framework serves this process's one function on the port its own options say: bodies of
    // requests to that server are read by the receiver, not by the framework's parsers
    // (body-takeover.ts). A request that still arrives parsed is logged as an error (receiver.ts).
    takeOverRequestBodies(listensOn(frameworkPort()));
    return await createReceiver(config);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof KeyFormatError) {
      console.error(`gemini-webhooks-pubsub: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

const receiver = await start();
functions.http('receiveWebhook', receiver.handler);
