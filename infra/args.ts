// Generated from infra/setting-table.ts by `npm run docs`: edit the table, not this file.
import type { Consumer } from './consumer.ts';

/**
 * Everything a deployment can be told. Only `project` is required; every other setting has the default
 * documented on it (the same as this project's `Pulumi.yaml`).
 */
export interface GeminiWebhooksArgs {
  /** Google Cloud project to deploy into; domain-scoped ids such as `example.com:my-project` too. */
  project: string;
  /** Region of the receiver, its source bucket and image repository. Default `us-central1`. */
  region?: string;
  /**
   * The Standard Webhooks signing secrets Gemini issued (`whsec_...`), newest first; at most 5. Each becomes one
   * Secret Manager version, named by a fingerprint of the secret (so the values must be known when the program
   * runs); removing one disables its version. The values reach resources only as Pulumi secrets. Empty until
   * Gemini has issued the first secret. Default none.
   */
  signingSecrets?: string[];
  /**
   * Signature schemes the receiver accepts: `static` (Standard Webhooks HMAC, project-level webhooks) and/or
   * `jwt` (dynamic, per-request webhooks). `jwt` also needs `jwtAudience` (or `jwtAllowAnyAudience`): Google's
   * JWKS signs every Gemini user's tokens, so only the audience ties a token to this receiver. Default
   * `["static"]`.
   */
  schemes?: string[];
  /**
   * JWKS that verifies dynamic (JWT) webhooks. Default
   * `https://generativelanguage.googleapis.com/.well-known/jwks.json`.
   */
  jwksUrl?: string;
  /** The `aud` JWT deliveries must carry; required when `jwt` is enabled, unless `jwtAllowAnyAudience`. */
  jwtAudience?: string;
  /** When set, JWT deliveries must carry this `iss`. */
  jwtIssuer?: string;
  /**
   * Accept JWT deliveries without an audience check; a token Google minted for another Gemini user's webhook
   * would then be accepted too. Default false.
   */
  jwtAllowAnyAudience?: boolean;
  /** Refuse JWT deliveries whose body is not bound to the token (claims or digest). Default false. */
  jwtRequireBodyBinding?: boolean;
  /**
   * When set, JWT deliveries are accepted only if their signed `user_metadata` carries this value as
   * `receiver_secret`, which ties them to your own requests: at least 32 characters, kept in a Secret Manager
   * secret of its own that the receiver reads as `WEBHOOK_JWT_RECEIVER_SECRET` (docs/protocol.md, "Tie JWT
   * deliveries to this deployment"). The value reaches resources only as a Pulumi secret.
   */
  jwtReceiverSecret?: string;
  /**
   * Prefix of every topic and subscription (`<prefix>-batch-succeeded`, ...): 1-63 lowercase letters, digits or
   * '-', starting with a letter. Default `gemini`.
   */
  topicPrefix?: string;
  /** Receiver instances kept warm: 0 scales to zero, 1 avoids cold starts but bills idle time (0-100). Default 0. */
  minInstances?: number;
  /** Upper bound on receiver instances (1-1000). Default 10. */
  maxInstances?: number;
  /** Concurrent deliveries per receiver instance (1-1000). Default 80. */
  concurrency?: number;
  /** Memory per receiver instance, 256Mi to 32Gi; CPU follows (1 CPU up to 4Gi). Default `512Mi`. */
  memory?: string;
  /** Request timeout of the receiver, in seconds (1-3600). Default 60. */
  timeoutSeconds?: number;
  /** How far `webhook-timestamp` may be from the receiver's clock, either way, in seconds (1-86400). Default 300. */
  timestampToleranceSeconds?: number;
  /** Largest delivery body the receiver accepts, in bytes; larger ones get 413 (1-9000000). Default 1048576. */
  maxBodyBytes?: number;
  /**
   * The receiver answers within this many milliseconds even when Pub/Sub hangs (100-60000). Must be below
   * `timeoutSeconds`. Default 5000.
   */
  publishTimeoutMs?: number;
  /** How long the receiver caches the signing secrets read from Secret Manager, in seconds (5-86400). Default 300. */
  secretRefreshSeconds?: number;
  /**
   * Deliveries one instance verifies and publishes at once before answering 503 with Retry-After (1-100000).
   * Default 256.
   */
  maxInFlight?: number;
  /** Deliveries to a consumer before a message moves to the route's dead-letter topic (5-100). Default 5. */
  maxDeliveryAttempts?: number;
  /** Shortest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). Default 10. */
  minimumBackoffSeconds?: number;
  /**
   * Longest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). At least
   * `minimumBackoffSeconds`. Default 600.
   */
  maximumBackoffSeconds?: number;
  /**
   * How long event topics keep messages, so a subscription created later can seek back, in seconds
   * (600-2678400). Default 604800.
   */
  topicRetentionSeconds?: number;
  /** How long dead-letter subscriptions keep dead letters, in seconds (600-2678400). Default 604800. */
  deadLetterRetentionSeconds?: number;
  /**
   * The services that consume events: each a `name`, its `eventTypes` (catalog types, `unrouted` or `*`), `push`
   * delivery (`endpoint`, `serviceAccountEmail`, `audience`; pull when omitted), a `filter`,
   * `ackDeadlineSeconds` and `exactlyOnce` (pull only). One subscription per consumer and event type. Default
   * none.
   */
  subscriptions?: Consumer[];
  /** Email addresses notified by the alert policies. Default none. */
  alertEmails?: string[];
  /** Enable the Google APIs the deployment needs (false when a platform team manages them). Default true. */
  enableApis?: boolean;
  /**
   * `allUsers` lets Gemini call the receiver (required unless you front it yourself); `none` creates no invoker
   * binding, for organisations whose domain-restricted sharing forbids allUsers (docs/deploy.md, "If your
   * organisation forbids allUsers"). Default `allUsers`.
   */
  publicInvoker?: string;
  /**
   * Wait after enabling the APIs, before anything calls them (a number and ms, s, m or h; 0s to 1h). Runs only
   * when what it waits for is new. Why and how long: docs/first-deploy.md. Default `60s`.
   */
  apiEnablementWait?: string;
  /**
   * Wait after the build identity's grants, before the receiver is built (a number and ms, s, m or h; 0s to 1h).
   * Runs only when what it waits for is new. Why and how long: docs/first-deploy.md. Default `120s`.
   */
  buildGrantsWait?: string;
  /**
   * Wait after the Pub/Sub service agent is created, before anything is granted to it (a number and ms, s, m or
   * h; 0s to 1h). Runs only when what it waits for is new. Why and how long: docs/first-deploy.md. Default
   * `60s`.
   */
  serviceAgentWait?: string;
  /**
   * Wait after creating the log-based metrics, before an alert uses one (a number and ms, s, m or h; 0s to 1h).
   * It overlaps with the receiver's build. Runs only when what it waits for is new. Why and how long:
   * docs/first-deploy.md. Default `10m`.
   */
  logMetricsWait?: string;
  /**
   * Where Secret Manager replicates the signing secret: `automatic`, or regions separated by commas for
   * organisations whose `gcp.resourceLocations` policy forbids the automatic (global) replication
   * (https://cloud.google.com/secret-manager/docs/choosing-replication). Default `automatic`.
   */
  secretReplication?: string;
  /**
   * Who may reach the receiver: `all`, `internal-and-gclb` (only through your own load balancer) or
   * `internal-only`, for organisations whose ingress policy forbids `all`. Gemini calls from the internet, so
   * anything but `all` needs a load balancer in front. Default `all`.
   */
  ingress?: string;
  /**
   * Let a config change replace what holds data or is referenced from outside (topics, subscriptions, the
   * secret, the function and its URL), such as a new `topicPrefix` or region; when false such a change is
   * refused before anything is replaced. Default false.
   */
  allowReplacement?: boolean;
  /**
   * Protect topics, dead-letter subscriptions and the secret from deletion (Pulumi's `protect`): `pulumi
   * destroy`, or a change that would delete one, fails until this is false and applied. Default true.
   */
  protectData?: boolean;
}
