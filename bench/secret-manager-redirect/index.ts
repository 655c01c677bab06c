/**
 * Loaded into the deployed receiver by the cold-start bench only (`NODE_OPTIONS=--import=...`, as
 * JavaScript): a TLS connection to secretmanager.googleapis.com:443 is opened to the fake Secret
 * Manager's HTTPS front at BENCH_SECRET_MANAGER_ADDRESS (`127.0.0.1:<port>`) instead, still
 * checking its certificate for secretmanager.googleapis.com.
 *
 * Why: the receiver's client speaks REST (HTTP/1.1, JSON) to Secret Manager through Node's https
 * module with an agent of google-gax's own, so the proxy settings that lead its gRPC traffic
 * (`grpc_proxy`) or gaxios' default agent (`HTTPS_PROXY`) do not apply, and the receiver has no
 * endpoint setting. Everything above the socket (auth, the client, retries, decoding) is the
 * deployed code path, unchanged.
 */
import tls from 'node:tls';

const HOST = 'secretmanager.googleapis.com';
const [host = '127.0.0.1', port = ''] = (process.env['BENCH_SECRET_MANAGER_ADDRESS'] ?? '').split(':');
const connect = tls.connect;

tls.connect = function redirected(this: unknown, ...args: unknown[]) {
  const options = args[0];
  if (typeof options === 'object' && options !== null) {
    const o: tls.ConnectionOptions = options;
    if (o.host === HOST && Number(o.port ?? 443) === 443)
      args[0] = { ...o, host, port: Number(port), servername: HOST };
  }
  return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
};
