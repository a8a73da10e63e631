// The SCIM credential lists (SCIM_BEARER_TOKENS, SCIM_BASIC_USERS and the lists of the same grammar: ADMIN_*,
// METRICS_TOKEN, and the tenants' bearerTokens / basicUsers of TENANTS_FILE) parsed into digests. Messages never
// quote a token, password digest or anything that may be one; only names and positions.
import { createHash } from "node:crypto";
import { EXPIRY_HINT, parseExpiry } from "./auth-settings";
import { entriesOf, tokenEntry } from "./credential-syntax";

export interface BearerCredential {
  /** Shown in logs instead of the secret. */
  name: string;
  /** SHA-256 of the token; plain tokens from the env are hashed at start so only digests stay in memory. */
  sha256: Buffer;
  /** `;expires=<ISO date or date-time>` on the entry, as epoch ms: from then on the token is refused. */
  expires?: number;
}

/** An HTTP Basic user of SCIM_BASIC_USERS; only digests are kept. */
export interface BasicCredential {
  username: string;
  /** Shown in logs: basic:<username>. */
  name: string;
  usernameSha256: Buffer;
  passwordSha256: Buffer;
}

const CREDENTIAL_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const HASHED = /^sha256:([0-9a-f]{64})$/i;
export const HASH_HINT = "hash it with: printf %s 'password' | sha256sum";
export const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** SCIM_BEARER_TOKENS: token | sha256:<hex> | name=token | name=sha256:<hex>. Unnamed entries are token-<position>. */
export function parseTokens(list: string | undefined): { tokens: BearerCredential[]; problems: string[] } {
  return parseTokenEntries(entriesOf(list));
}

/** parseTokens over entries already split (a YAML list): `n` is the entry's 1-based position. */
export function parseTokenEntries(entries: readonly { n: number; raw: string }[]): { tokens: BearerCredential[]; problems: string[] } {
  const tokens: BearerCredential[] = [];
  const problems: string[] = [];
  for (const { n, raw: given } of entries) {
    const { name: givenName, value, expiresText } = tokenEntry(given);
    const named = givenName !== undefined;
    const name = givenName ?? `token-${n}`;
    if (named && !CREDENTIAL_NAME.test(name)) {
      problems.push(
        `entry ${n}: the name before "=" must be 1-64 characters of A-Z a-z 0-9 . _ - (a token may contain "=" only as trailing padding)`,
      );
      continue;
    }
    const expires = expiresText === undefined ? undefined : parseExpiry(expiresText);
    if (expires === null) {
      problems.push(`${named ? `token "${name}"` : `token ${n}`}: expires= must be ${EXPIRY_HINT}`);
      continue;
    }
    const expiry = expires === undefined ? {} : { expires };
    if (/^sha256:/i.test(value)) {
      const hashed = HASHED.exec(value);
      if (!hashed) {
        problems.push(`${named ? `token "${name}"` : `token ${n}`} is sha256: but not 64 hex digits`);
        continue;
      }
      tokens.push({ name, sha256: Buffer.from(hashed[1], "hex"), ...expiry });
    } else {
      tokens.push({ name, sha256: sha256(value), ...expiry });
    }
  }
  problems.push(...duplicates(tokens.map((t) => t.name), "token name"));
  return { tokens, problems };
}

/** SCIM_BASIC_USERS: username:sha256:<hex of the password>, hashed only. */
export function parseBasicUsers(list: string | undefined): { users: BasicCredential[]; problems: string[] } {
  return parseBasicUserEntries(entriesOf(list));
}

/** parseBasicUsers over entries already split (a YAML list): `n` is the entry's 1-based position. */
export function parseBasicUserEntries(entries: readonly { n: number; raw: string }[]): { users: BasicCredential[]; problems: string[] } {
  const users: BasicCredential[] = [];
  const problems: string[] = [];
  for (const { n, raw } of entries) {
    const colon = raw.indexOf(":");
    if (colon < 0) {
      problems.push(`entry ${n} must be username:sha256:<64 hex digits of the password's SHA-256>; ${HASH_HINT}`);
      continue;
    }
    const username = raw.slice(0, colon).trim();
    const rest = raw.slice(colon + 1).trim();
    if (!/^[^\s:\x00-\x1f\x7f]{1,128}$/.test(username)) {
      problems.push(`entry ${n}: the username must be 1-128 characters without spaces or ":"`);
      continue;
    }
    const hashed = HASHED.exec(rest);
    if (!hashed) {
      problems.push(
        /^sha256:/i.test(rest)
          ? `user "${username}": sha256: must be followed by the 64 hex digits of the password's SHA-256`
          : `user "${username}": plain passwords are refused; give sha256:<64 hex digits of the password's SHA-256> instead (${HASH_HINT})`,
      );
      continue;
    }
    users.push({
      username,
      name: `basic:${username}`,
      usernameSha256: sha256(username),
      passwordSha256: Buffer.from(hashed[1], "hex"),
    });
  }
  problems.push(...duplicates(users.map((u) => u.username), "username"));
  return { users, problems };
}

export function duplicates(names: string[], what: string): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup].map((n) => `${what} "${n}" is used more than once`);
}
