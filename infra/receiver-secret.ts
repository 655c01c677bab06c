/**
 * The JWT receiver secret as the deployment stores it (`jwtReceiverSecret`): checked for the length the
 * receiver requires (functions/verify/receiver-secret.ts), and never printed. Pure (no Pulumi); the
 * value reaches resources only inside `pulumi.secret` (infra/components/jwt-receiver-secret.ts).
 */
import { inspect } from 'node:util';
import { MIN_RECEIVER_SECRET_LENGTH } from '../functions/verify/receiver-secret.ts';

/** Why a receiver secret is unusable, saying its length and never its value; undefined when fine. */
export function receiverSecretProblem(value: string): string | undefined {
  if (value.length < MIN_RECEIVER_SECRET_LENGTH)
    return `is ${value.length} characters, fewer than the ${MIN_RECEIVER_SECRET_LENGTH} the receiver requires`;
  return undefined;
}

/**
 * The receiver secret. The value is reachable only through `reveal()`; printing, logging or
 * JSON-serialising the object shows a placeholder and never the secret.
 */
export class ReceiverSecret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[receiver secret]';
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}
