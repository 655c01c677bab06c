/**
 * The real parts the reliability suite runs against, started and stopped per test file: the
 * Pub/Sub emulator (restartable on the same port), the topology the cloud gets, the receiver under
 * the Functions Framework CLI, and a collector that pulls every message off the consumer
 * subscriptions so the invariants can be checked against what Pub/Sub really holds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { ROUTE_KEYS, type RouteKey } from '../../functions/catalog.ts';
import { planSubscription } from '../../functions/topology.ts';
import { freePort, startEmulator, type Emulator } from '../../scripts/lib/emulator.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { startReceiverProcess, type ReceiverProcess } from '../../scripts/lib/receiver-process.ts';
import { TcpGate } from './fault-servers.ts';

// Off GCP there is no metadata server; the client libraries in this process need not look for one.
process.env['METADATA_SERVER_DETECTION'] ??= 'none';

export const PROJECT = 'reliability-project';
export const PREFIX = 'gemini';
export const CONSUMER = 'reliability';

type SubscriberOptions = ConstructorParameters<typeof v1.SubscriberClient>[0];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; throws with `describe()` when `timeoutMs` passes first. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await sleep(50);
  }
}

/** One message as Pub/Sub delivered it to a consumer subscription. */
export interface CollectedMessage {
  route: RouteKey;
  subscription: string;
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
}

/**
 * A Pub/Sub emulator plus the local topology, with a synchronous-pull collector. `killHard()` and
 * `restart()` model the emulator dying and coming back on the same address (empty, as the emulator
 * keeps nothing on disk), after which the topology is created again.
 *
 * Receivers reach the emulator through a gate on a fixed port (`host`), which stays closed while a
 * restarted emulator gets its topology back. Real Pub/Sub keeps its subscriptions through an
 * outage; the emulator comes back with none, and a message published to a topic before its
 * subscription exists again is dropped. Without the gate a receiver could publish into that window,
 * answer 2xx, and the test would count a loss that only the emulator's restart caused.
 */
export class PubSubWorld {
  emulator: Emulator;
  /** Every message pulled (and acknowledged) so far, across restarts. */
  readonly collected: CollectedMessage[] = [];
  #gate: TcpGate;
  #pubsub: PubSub;
  #subscriber: v1.SubscriberClient;

  /** Freezes the emulator (SIGSTOP) for `ms`, then lets it run again, whatever happens meanwhile. */
  async freezeFor(ms: number): Promise<void> {
    this.emulator.pause();
    try {
      await sleep(ms);
    } finally {
      this.emulator.resume();
    }
  }

  private constructor(emulator: Emulator, gate: TcpGate) {
    this.emulator = emulator;
    this.#gate = gate;
    this.#pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
    this.#subscriber = new v1.SubscriberClient(this.#pubsub.options as SubscriberOptions);
  }

  static async start(): Promise<PubSubWorld> {
    const emulator = await startEmulator({ timeoutMs: 120_000 });
    const world = new PubSubWorld(emulator, new TcpGate(await freePort(), emulator.port));
    await world.createTopology();
    await world.#gate.open();
    return world;
  }

  /** Where receivers find Pub/Sub (PUBSUB_EMULATOR_HOST): the gate in front of the emulator. */
  get host(): string {
    return `127.0.0.1:${this.#gate.port}`;
  }

  async createTopology(): Promise<void> {
    await createLocalTopology(this.#pubsub, {
      topicPrefix: PREFIX,
      consumer: CONSUMER,
      ackDeadlineSeconds: 60,
      minimumBackoffSeconds: 1,
      maximumBackoffSeconds: 2,
    });
  }

  /**
   * SIGKILL the emulator's JVM, never letting it run again (Emulator.stop() would SIGCONT a frozen
   * emulator first, and it could then still accept publishes that die with it). The launcher
   * script `exec`s java, so the child we spawned is the JVM: found by parent id and `--port`.
   */
  killHard(): void {
    const pid = childPidWithArgument(`--port=${this.emulator.port}`);
    if (pid === undefined) throw new Error(`no emulator child process listening on port ${this.emulator.port}`);
    process.kill(pid, 'SIGKILL');
  }

  /**
   * Starts a fresh emulator and creates the topology again; receivers get through (on the same
   * address) only once it is complete.
   */
  async restart(): Promise<void> {
    await this.#gate.close();
    await this.emulator.stop(); // reaps the killed child; a no-op when it already exited
    await this.#subscriber.close().catch(() => {});
    await this.#pubsub.close().catch(() => {});
    this.emulator = await startEmulator({ timeoutMs: 120_000 });
    this.#pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: this.emulator.host });
    this.#subscriber = new v1.SubscriberClient(this.#pubsub.options as SubscriberOptions);
    await this.createTopology();
    this.#gate = new TcpGate(this.#gate.port, this.emulator.port);
    // The port was just released; another process could hold it a moment, so retry a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#gate.open();
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(1000);
      }
    }
  }

  /** One synchronous pull round over every consumer subscription; returns how many were pulled. */
  async pullOnce(maxMessages = 1000): Promise<number> {
    let pulled = 0;
    await Promise.all(
      ROUTE_KEYS.map(async (route) => {
        const subscription = `projects/${PROJECT}/subscriptions/${planSubscription(PREFIX, route, CONSUMER).name}`;
        const [response] = await this.#subscriber.pull(
          { subscription, maxMessages, returnImmediately: true },
          { timeout: 20_000 },
        );
        const received = response.receivedMessages ?? [];
        if (received.length === 0) return;
        for (const item of received) {
          const message = item.message!;
          this.collected.push({
            route,
            subscription,
            messageId: String(message.messageId),
            data: Buffer.from(message.data ?? new Uint8Array()),
            attributes: { ...(message.attributes ?? {}) },
          });
        }
        pulled += received.length;
        await this.#subscriber.acknowledge(
          { subscription, ackIds: received.map((item) => item.ackId!) },
          { timeout: 20_000 },
        );
      }),
    );
    return pulled;
  }

  /** Pulls until `quietRounds` consecutive rounds find nothing: everything Pub/Sub holds is collected. */
  async drain(quietRounds = 3): Promise<CollectedMessage[]> {
    let quiet = 0;
    while (quiet < quietRounds) {
      const pulled = await this.pullOnce();
      quiet = pulled === 0 ? quiet + 1 : 0;
      if (pulled === 0) await sleep(150);
    }
    return this.collected;
  }

  async stop(): Promise<void> {
    await this.#gate.close();
    await this.#subscriber.close().catch(() => {});
    await this.#pubsub.close().catch(() => {});
    await this.emulator.stop();
  }
}

/** Pid of a direct child of this process whose command line contains `argument`. */
function childPidWithArgument(argument: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(argument)) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

/** Resident set size of a process in bytes (Linux), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ReceiverHandle {
  readonly url: string;
  readonly port: number;
  readonly process: ReceiverProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts the receiver again on the same port with the same environment. */
  restart(): Promise<void>;
  alive(): boolean;
  /** Everything every incarnation printed. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The receiver under the real Functions Framework CLI, restartable on the same port. `source`
 * serves another entry module than functions/index.ts (a fixture that injects a fault).
 */
export async function startReceiver(
  env: Record<string, string>,
  options: { port?: number; source?: string; portInEnvironment?: boolean } = {},
): Promise<ReceiverHandle> {
  const chosenPort = options.port ?? (await freePort());
  const fullEnv: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: PROJECT,
    WEBHOOK_TOPIC_PREFIX: PREFIX,
    // The Functions Framework prints its "Serving function" banner (which startReceiverProcess
    // waits for) only outside production.
    NODE_ENV: 'test',
    ...env,
  };
  let earlierOutput = '';
  const launch = async (): Promise<ReceiverProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startReceiverProcess({
          port: chosenPort,
          env: fullEnv,
          timeoutMs: 60_000,
          ...(options.source !== undefined && { source: options.source }),
          ...(options.portInEnvironment !== undefined && { portInEnvironment: options.portInEnvironment }),
        });
      } catch (error) {
        // EADDRINUSE right after a kill: the port is released a moment later.
        if (attempt >= 5) throw error;
        await sleep(500);
      }
    }
  };
  let current = await launch();
  return {
    url: current.url,
    port: chosenPort,
    get process() {
      return current;
    },
    kill: () => current.kill(),
    async restart() {
      earlierOutput += current.output();
      current = await launch();
    },
    alive: () => current.child.exitCode === null && current.child.signalCode === null,
    output: () => earlierOutput + current.output(),
    stop: () => current.stop(),
  };
}

/** Structured log lines the receiver printed (one JSON object per line). */
export function logLines(output: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return lines;
}
