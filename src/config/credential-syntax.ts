// The grammar of the credential lists (SCIM_BEARER_TOKENS, ADMIN_TOKENS, METRICS_TOKEN and the digest lists), in
// one place: the config parser reads credentials with it, and the log redactor learns the secrets with it before the
// configuration is even checked (a start that fails must not print a token either).
import { splitExpiry } from "./auth-settings";

/** The non-empty comma-separated entries of a list, with their 1-based positions (messages name positions). */
export function entriesOf(list: string | undefined): { n: number; raw: string }[] {
  return (list ?? "")
    .split(",")
    .map((raw, i) => ({ n: i + 1, raw: raw.trim() }))
    .filter((e) => e.raw !== "");
}

/** One token entry: `token`, `sha256:<hex>`, `name=token` or `name=sha256:<hex>`, each optionally `;expires=<when>`. */
export function tokenEntry(given: string): { name?: string; value: string; expiresText?: string } {
  const { entry: raw, expires: expiresText } = splitExpiry(given);
  // "=" only as trailing base64 padding keeps a plain token unnamed.
  const eq = raw.indexOf("=");
  const named = eq >= 0 && !/^=*$/.test(raw.slice(eq + 1));
  return {
    ...(named ? { name: raw.slice(0, eq).trim() } : {}),
    value: named ? raw.slice(eq + 1).trim() : raw,
    ...(expiresText !== undefined ? { expiresText } : {}),
  };
}

const TOKEN_LISTS = ["SCIM_BEARER_TOKENS", "ADMIN_TOKENS", "METRICS_TOKEN"] as const;
const DIGEST_LISTS = ["SCIM_BASIC_USERS", "OAUTH_CLIENTS", "ADMIN_BASIC_USERS"] as const;
const DIGEST = /sha256:([0-9a-f]{64})/gi;

/**
 * Every secret value `env` holds, for the log redactor: the API key, each token (alone and as written, since a
 * malformed entry may be echoed whole), the signing key, and every SHA-256 digest (a digest allows an offline guess).
 * Names are not secrets and are left out. Works on an unchecked environment.
 */
export function secretsInEnv(env: NodeJS.ProcessEnv): string[] {
  const secrets: string[] = [];
  const add = (s: string | undefined) => {
    const t = s?.trim();
    if (t) secrets.push(t);
  };
  add(env.DIGICERT_API_KEY);
  add(env.OAUTH_SIGNING_KEY);
  for (const list of TOKEN_LISTS) {
    for (const { raw } of entriesOf(env[list])) {
      add(raw);
      add(splitExpiry(raw).entry);
      add(tokenEntry(raw).value);
    }
  }
  // Only digests of these are known (the raw passwords and client secrets never are).
  for (const name of [...TOKEN_LISTS, ...DIGEST_LISTS]) {
    for (const m of (env[name] ?? "").matchAll(DIGEST)) secrets.push(m[1]);
  }
  return secrets;
}
