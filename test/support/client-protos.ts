/**
 * The `.proto` files shipped inside an installed Google client library, for gRPC servers that tests
 * and the bench build from the real service definitions.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * `includeDirs` for `@grpc/proto-loader`: the client's own protos (its `build/protos`) and their
 * imports (google/api, google/iam, google/rpc, google/protobuf) from the google-gax that client
 * depends on. google-gax has an `exports` map without ./package.json, so its main module
 * (build/src/index.js) is resolved from the client's package and the path walks up to its root.
 */
export function clientProtoDirs(clientPackage: string): { clientProtos: string; gaxProtos: string } {
  const clientRoot = path.dirname(require.resolve(`${clientPackage}/package.json`));
  const gaxMain = createRequire(path.join(clientRoot, 'package.json')).resolve('google-gax');
  return {
    clientProtos: path.join(clientRoot, 'build', 'protos'),
    gaxProtos: path.join(path.dirname(gaxMain), '..', '..', 'build', 'protos'),
  };
}
