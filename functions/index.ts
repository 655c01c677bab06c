/**
 * Functions Framework entry point (target `receiveWebhook`), for Cloud Run functions and for the
 * local stack alike. Configuration is read once, at start; a bad value stops the instance with
 * one line saying what to fix.
 */
import * as functions from '@google-cloud/functions-framework';
import { createReceiver } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { KeyFormatError } from './verify/keys.ts';

async function start() {
  try {
    return await createReceiver(loadConfig(process.env));
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
