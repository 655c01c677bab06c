/**
 * Pulumi's Node.js plugin host, started the way the Pulumi CLI starts a source-based plugin
 * (`RunPlugin` in pulumi/pulumi's sdk/nodejs/cmd/pulumi-language-nodejs/main.go,
 * https://github.com/pulumi/pulumi/blob/master/sdk/nodejs/cmd/pulumi-language-nodejs/main.go):
 * `@pulumi/pulumi/cmd/run-plugin` is resolved with `require.resolve` from the plugin's directory,
 * run by `node <run-plugin> <plugin directory>` in the working directory of the program that uses it,
 * with `PULUMI_NODEJS_TYPESCRIPT=true` (the `typescript` runtime option defaults to true), and the
 * plugin prints the port of its gRPC server on stdout. The client is the generated one the
 * plugin's own `@pulumi/pulumi` ships, with that package's copy of gRPC.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The CLI's `locateModule`: the run-plugin script as the plugin's dependencies resolve it. */
export function locateRunPlugin(pluginDir: string): string {
  const script = "console.log(require.resolve('@pulumi/pulumi/cmd/run-plugin'))";
  return execFileSync(process.execPath, ['-e', script], { cwd: pluginDir, encoding: 'utf8' }).trim();
}

interface GrpcClient {
  getSchema(request: unknown, callback: (error: Error | null, response: { getSchema(): string }) => void): void;
  close(): void;
}

export interface PluginHost {
  /** The schema the plugin returns for `GetSchema`, parsed. */
  getSchema(): Promise<Record<string, unknown>>;
  /** stderr so far, for failure messages. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts the plugin in `pluginDir` with `programDir` as its working directory, and connects to it. */
export async function startPluginHost(pluginDir: string, programDir: string): Promise<PluginHost> {
  const runPlugin = locateRunPlugin(pluginDir);
  const child: ChildProcess = spawn(process.execPath, [runPlugin, pluginDir], {
    cwd: programDir,
    env: { ...process.env, PULUMI_NODEJS_TYPESCRIPT: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^(\d+)\r?\n/.exec(stdout);
      if (line) resolve(Number(line[1]));
    });
    void exited.then((code) =>
      reject(new Error(`the plugin host exited with ${code} before printing its port:\n${stdout}\n${stderr}`)),
    );
  });

  const fromPlugin = createRequire(join(pluginDir, 'package.json'));
  const servicesPath = fromPlugin.resolve('@pulumi/pulumi/proto/provider_grpc_pb.js');
  const services = fromPlugin(servicesPath) as {
    ResourceProviderClient: new (address: string, credentials: unknown) => GrpcClient;
  };
  const messages = fromPlugin('@pulumi/pulumi/proto/provider_pb.js') as { GetSchemaRequest: new () => unknown };
  const grpc = createRequire(servicesPath)('@grpc/grpc-js') as { credentials: { createInsecure(): unknown } };
  const client = new services.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  return {
    getSchema: () =>
      new Promise((resolve, reject) =>
        client.getSchema(new messages.GetSchemaRequest(), (error, response) =>
          error
            ? reject(new Error(`GetSchema failed: ${error.message}\n${stderr}`))
            : resolve(JSON.parse(response.getSchema()) as Record<string, unknown>),
        ),
      ),
    stderr: () => stderr,
    stop: async () => {
      client.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
