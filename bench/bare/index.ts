/**
 * The ceiling (b): a Functions Framework HTTP function that does no work at all and answers 204.
 * Same runtime, same CLI, same body parsing as the receiver, so the difference is our work.
 */
import * as functions from '@google-cloud/functions-framework';

functions.http('receiveWebhook', (_req, res) => {
  res.status(204).end();
});
