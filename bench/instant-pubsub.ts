/**
 * The instant backend: a Pub/Sub Publisher (google.pubsub.v1.Publisher) served over real gRPC on
 * 127.0.0.1 that accepts every Publish at once and answers with message ids. The receiver reaches
 * it through PUBSUB_EMULATOR_HOST with the real `@google-cloud/pubsub` client, exactly as it
 * reaches the emulator, so what a delivery costs the receiver shows without the emulator's JVM
 * competing for the same cores.
 *
 * A measuring instrument for the bench, nothing more: it stores nothing, checks nothing beyond
 * what gRPC decodes, and is never a stand-in for Pub/Sub in the tests (they use the emulator).
 * Run as a process of its own (`node bench/instant-pubsub.ts`), so its CPU time is its own; it
 * prints `listening <port>` once it serves, and the CPU time it used per Publish at exit.
 *
 * The service definition is the one shipped inside `@google-cloud/pubsub` (its imports from
 * google-gax's copy of the common protos), found by test/support/client-protos.ts.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { clientProtoDirs } from '../test/support/client-protos.ts';

const { clientProtos: pubsubProtos, gaxProtos } = clientProtoDirs('@google-cloud/pubsub');

interface PublishRequest {
  topic: string;
  messages: unknown[];
}

export interface InstantPublisher {
  port: number;
  /** Publish calls and messages answered so far. */
  counts(): { calls: number; messages: number };
  close(): void;
}

export async function startInstantPublisher(port = 0): Promise<InstantPublisher> {
  const definition = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: [pubsubProtos, gaxProtos],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { pubsub: { v1: { Publisher: grpc.ServiceClientConstructor } } };
  };
  const service = loaded.google.pubsub.v1.Publisher.service;
  let calls = 0;
  let messages = 0;
  let next = 0;
  type Handler = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;
  const handlers: Record<string, Handler> = {};
  for (const [methodName, method] of Object.entries(service)) {
    handlers[method.originalName ?? methodName] = (_call, callback) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: `instant backend: ${methodName} not implemented` });
  }
  handlers['publish'] = (call, callback) => {
    const request = call.request as PublishRequest;
    calls++;
    messages += request.messages.length;
    const messageIds = request.messages.map(() => String(++next));
    callback(null, { messageIds });
  };
  // The client does not look a topic up before publishing; answered anyway, should a version start to.
  handlers['getTopic'] = (call, callback) => callback(null, { name: (call.request as { topic: string }).topic });

  const server = new grpc.Server();
  server.addService(service, handlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { port: bound, counts: () => ({ calls, messages }), close: () => server.forceShutdown() };
}

if (import.meta.main) {
  const publisher = await startInstantPublisher(Number(process.argv[2] ?? 0));
  process.stdout.write(`listening ${publisher.port}\n`);
  const stop = (): void => {
    const { calls, messages } = publisher.counts();
    const cpu = process.cpuUsage();
    process.stderr.write(
      `instant backend: ${messages} messages in ${calls} Publish calls, ` +
        `${Math.round((cpu.user + cpu.system) / 1000)} ms CPU\n`,
    );
    publisher.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
