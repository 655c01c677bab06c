/**
 * Pure rules for the stack's signing secrets: adding a new one and pruning those whose grace has
 * passed.
 *
 * Gemini never shows a secret again after create/rotate; a webhook lists its secrets only as
 * `signing_secrets[].truncated_secret` with an `expire_time`, today `whsec_...` followed by the
 * last four characters (e.g. `whsec_...3frh`, the cookbook's output). Other masks are accepted in
 * case that rendering changes. A stored (full) secret matches a truncated one when:
 *  - the truncated value is split into visible fragments at its mask runs (`…`, two or more dots,
 *    `*`, `•`); the fragments must occur in the full secret in order, the first one at the very
 *    start unless the truncated value starts with a mask, the last one at the very end unless it
 *    ends with a mask (a value without any mask must equal the secret);
 *  - `whsec_` is optional on either side (compared without it);
 *  - at least 4 characters besides `whsec_` are visible, so a mostly-masked value matches nothing.
 * A truncated value that matches two stored secrets is ambiguous and proves nothing about either.
 * A secret is dropped only on positive evidence: every unambiguous listing of it has an
 * `expire_time` in the past. Secrets Gemini does not list at all are kept unless the caller asks
 * (`--drop-unlisted`), and the newest secret is never dropped as unlisted.
 */
import { fingerprintOf } from '../infra/signing-secret.ts';
import type { SigningSecretInfo, Webhook } from './gemini/types.ts';

export const MIN_VISIBLE_CHARACTERS = 4;

const MASK = /(?:…|\.{2,}|\*+|•+)/;

function bare(value: string): string {
  return value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
}

/** Whether a full secret is the one a `truncated_secret` stands for (rules above). */
export function matchesTruncated(secret: string, truncated: string): boolean {
  const full = bare(secret.trim());
  const shown = bare(truncated.trim());
  const fragments = shown.split(new RegExp(MASK.source, 'g'));
  const visible = fragments.join('');
  if (visible.length < MIN_VISIBLE_CHARACTERS) return false;
  if (fragments.length === 1) return full === shown;
  const first = fragments[0] ?? '';
  const last = fragments.at(-1) ?? '';
  if (!full.startsWith(first) || !full.endsWith(last) || first.length + last.length > full.length) return false;
  let position = first.length;
  const end = full.length - last.length;
  for (const fragment of fragments.slice(1, -1)) {
    if (fragment === '') continue;
    const at = full.indexOf(fragment, position);
    if (at < 0 || at + fragment.length > end) return false;
    position = at + fragment.length;
  }
  return true;
}

export type SecretVerdict =
  | { action: 'keep'; why: 'valid' | 'unlisted' | 'ambiguous' | 'newest'; expireTime?: string }
  | { action: 'drop'; why: 'expired' | 'unlisted'; expireTime?: string };

export interface PrunePlan {
  keep: string[];
  drop: string[];
  /** One entry per stored secret, in stored order. */
  verdicts: SecretVerdict[];
}

export interface PruneOptions {
  now: Date;
  dropUnlisted?: boolean;
}

interface Listing {
  info: SigningSecretInfo;
  webhookId: string | undefined;
}

/** Decides, for every stored secret, whether its grace has passed (rules in the module comment). */
export function planPrune(stored: readonly string[], webhooks: readonly Webhook[], options: PruneOptions): PrunePlan {
  const listings: Listing[] = webhooks.flatMap((webhook) =>
    (webhook.signing_secrets ?? [])
      .filter((info) => typeof info.truncated_secret === 'string')
      .map((info) => ({ info, webhookId: webhook.id })),
  );
  const matchesOf = (listing: Listing): string[] =>
    stored.filter((secret) => matchesTruncated(secret, listing.info.truncated_secret!));
  const unambiguous = listings.filter((listing) => matchesOf(listing).length === 1);

  const verdicts = stored.map((secret, index): SecretVerdict => {
    const mine = unambiguous.filter((listing) => matchesTruncated(secret, listing.info.truncated_secret!));
    if (mine.length === 0) {
      const ambiguous = listings.some((listing) => matchesTruncated(secret, listing.info.truncated_secret!));
      if (ambiguous) return { action: 'keep', why: 'ambiguous' };
      if (!options.dropUnlisted) return { action: 'keep', why: 'unlisted' };
      return index === 0 ? { action: 'keep', why: 'newest' } : { action: 'drop', why: 'unlisted' };
    }
    const expiries = mine.map((listing) => listing.info.expire_time);
    const passed = (time: string | undefined): time is string =>
      time !== undefined && Date.parse(time) <= options.now.getTime();
    const latest = expiries
      .filter((time): time is string => time !== undefined)
      .sort()
      .at(-1);
    if (!expiries.every(passed)) {
      // No expiry at all means "current"; otherwise report when the grace ends.
      return expiries.includes(undefined) || latest === undefined
        ? { action: 'keep', why: 'valid' }
        : { action: 'keep', why: 'valid', expireTime: latest };
    }
    return latest === undefined
      ? { action: 'drop', why: 'expired' }
      : { action: 'drop', why: 'expired', expireTime: latest };
  });
  return {
    keep: stored.filter((_, index) => verdicts[index]?.action === 'keep'),
    drop: stored.filter((_, index) => verdicts[index]?.action === 'drop'),
    verdicts,
  };
}

/** The new secret first, then the stored ones (a repeat of the new one is not stored twice). */
export function prependSecret(stored: readonly string[], secret: string): string[] {
  return [secret, ...stored.filter((entry) => entry !== secret)];
}

/** Names a stored secret without revealing it: position and fingerprint. */
export function describeSecret(secret: string, index: number): string {
  return `#${index + 1} (fingerprint ${fingerprintOf(secret)})`;
}
