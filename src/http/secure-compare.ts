// The one way the bridge compares a presented secret with a configured or stored one: both sides are reduced to
// SHA-256 digests (fixed length, so nothing about a secret's length can show) and compared with
// crypto.timingSafeEqual. Lists are always compared in full: the time taken does not say which entry matched.
import { createHash, timingSafeEqual } from "node:crypto";

export const DIGEST_BYTES = 32;

export const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Constant-time equality of two SHA-256 digests. Anything else is a programming error: it throws. */
export function digestEquals(a: Buffer, b: Buffer): boolean {
  if (a.length !== DIGEST_BYTES || b.length !== DIGEST_BYTES) throw new Error("digestEquals compares SHA-256 digests only");
  return timingSafeEqual(a, b);
}

/** Constant-time equality of two strings of any lengths, through their digests. */
export function textEquals(a: string, b: string): boolean {
  return digestEquals(sha256(a), sha256(b));
}

/**
 * Index of the first of `candidates` equal to `digest`, or -1. Every candidate is compared, whichever matches, so
 * the time taken depends on the number of candidates only.
 */
export function indexOfDigest(digest: Buffer, candidates: readonly Buffer[]): number {
  let found = -1;
  for (let i = 0; i < candidates.length; i++) {
    const equal = digestEquals(digest, candidates[i]);
    if (equal && found < 0) found = i;
  }
  return found;
}
