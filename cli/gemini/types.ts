/**
 * The WebhookService resources as they travel over the wire: snake_case, exactly as the REST API
 * sends and expects them (fact sheet, "WebhookService"). Nothing here is renamed to camelCase, so
 * what `--json` prints is what Gemini returned.
 */

export type WebhookState = 'enabled' | 'disabled' | 'disabled_due_to_failed_deliveries';

export interface SigningSecretInfo {
  /** A shortened, non-secret rendering of the secret (see cli/signing-secrets.ts for matching). */
  truncated_secret?: string;
  /** RFC 3339; absent while the secret has no scheduled revocation. */
  expire_time?: string;
}

export interface Webhook {
  id?: string;
  name?: string;
  uri?: string;
  subscribed_events?: string[];
  state?: WebhookState | (string & {});
  /** Only in the answer to create, and only once. */
  new_signing_secret?: string;
  signing_secrets?: SigningSecretInfo[];
}

export interface CreateWebhookRequest {
  name?: string;
  uri: string;
  subscribed_events: string[];
}

export type RevocationBehavior = 'revoke_previous_secrets_after_h24' | 'revoke_previous_secrets_immediately';

export interface ListWebhooksResponse {
  webhooks?: Webhook[];
  next_page_token?: string;
}

export interface RotateSigningSecretResponse {
  secret?: string;
}
