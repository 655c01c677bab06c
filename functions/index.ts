/**
 * Functions Framework entry point (target `receiveWebhook`), for Cloud Run functions and for the
 * local stack alike. Configuration is read once, at start; a bad value stops the instance with
 * one line saying what to fix.
 */
import * as functions from '@google-cloud/functions-framework';
import { createReceiver } from './app.ts';
import { listensOn, takeOverRequestBodies } from './body-takeover.ts';
import { ConfigError, loadConfig } from './config.ts';
import { KeyFormatError } from './verify/keys.ts';

async function start() {
  try {
    const config = loadConfig(process.env);
    // The framework serves this process's one function on the configured port: bodies of requests
    // to that server are read by the receiver, not by the framework's parsers (body-takeover.ts).
    takeOverRequestBodies(listensOn(config.port));
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
functions.http('receiveWebhook', (req, res) => {
  // The Functions Framework runs every request inside a `domain` (to answer 500 for an uncaught
  // asynchronous throw). Its async hook then tags every promise and gRPC resource the delivery
  // creates and tracks each one's destruction: about a tenth of our CPU per request (bench/).
  // The handler catches its own errors and always answers, and the framework's process-level
  // handlers still catch the rest, so we leave the domain before doing any work.
  (process as { domain?: { exit(): void } | null }).domain?.exit();
  return receiver.handler(req, res);
});
