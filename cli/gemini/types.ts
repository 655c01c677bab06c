/**
 * The WebhookService resources as they travel over the wire: snake_case, exactly as the REST API
 * sends and expects them (https://ai.google.dev/api/webhooks, and the types of googleapis/js-genai
 * `src/gaos/models/webhooks/`). Nothing here is renamed to camelCase, so what `--json` prints is
 * what Gemini returned.
 */

export type WebhookState = 'enabled' | 'disabled' | 'disabled_due_to_failed_deliveries';

export interface SigningSecretInfo {
  /** A shortened, non-secret rendering: `whsec_...` and the last four characters (see cli/signing-secrets.ts). */
  truncated_secret?: string;
  /** RFC 3339; absent while the secret has no scheduled revocation. */
  expire_time?: string;
}

export interface Webhook {
  /** Output only: what every `/webhooks/{id}` path takes. */
  id?: string;
  /** A label the user chose, not a resource name; it identifies nothing. */
  name?: string;
  uri?: string;
  subscribed_events?: string[];
  state?: WebhookState | (string & {});
  /** Only in the answer to create, and only once. */
  new_signing_secret?: string;
  signing_secrets?: SigningSecretInfo[];
  /** RFC 3339, output only. */
  create_time?: string;
  /** RFC 3339, output only. */
  update_time?: string;
}

export interface CreateWebhookRequest {
  name?: string;
  uri: string;
  subscribed_events: string[];
}

/** What `PATCH /webhooks/{id}` can change; each field present is also named in `update_mask`. */
export interface WebhookUpdate {
  name?: string;
  uri?: string;
  subscribed_events?: string[];
  state?: WebhookState;
}

export type RevocationBehavior = 'revoke_previous_secrets_after_h24' | 'revoke_previous_secrets_immediately';

export interface ListWebhooksResponse {
  webhooks?: Webhook[];
  next_page_token?: string;
}

export interface RotateSigningSecretResponse {
  secret?: string;
}
