/**
 * The package's `main`, for Pulumi's Node.js plugin host only: when a program in another language uses
 * this package (`pulumi package add`), the host (`@pulumi/pulumi/cmd/run-plugin`, resolved from the
 * package's own dependencies) `require`s the package directory, which loads this module's build
 * (dist/provider.js, through Node's `require(esm)`), and this module serves the components over gRPC,
 * printing the port for the Pulumi engine, as `componentProviderHost` does.
 *
 * Programs never load it: `import 'gemini-webhooks-pubsub'` resolves through package.json `exports` to
 * index.ts's build. It has no top-level await, which `require(esm)` refuses.
 */
import { main } from '@pulumi/pulumi/provider/index.js';
import { GeminiWebhooksProvider } from './infra/component-provider.ts';

void main(new GeminiWebhooksProvider(), process.argv.slice(2));
