// Secrets from files: for each secret variable NAME, NAME_FILE may name a file holding the value (Docker and
// Kubernetes mount secrets as files, so the value never sits in the process environment or `docker inspect`).
import fs from "node:fs";

/** The variables that may come from a file. */
export const FILE_SECRET_VARIABLES = [
  "DIGICERT_API_KEY",
  "SCIM_BEARER_TOKENS",
  "SCIM_BASIC_USERS",
  "OAUTH_CLIENTS",
  "OAUTH_SIGNING_KEY",
  "ADMIN_TOKENS",
  "ADMIN_BASIC_USERS",
  "METRICS_TOKEN",
  "DATABASE_URL",
  "REDIS_URL",
] as const;

/** Files larger than this are not secrets but mistakes (a directory of certificates, say). */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Returns `env` with every NAME_FILE read into NAME (one trailing newline removed). Problems name the variable and
 * the file, never its content: setting both NAME and NAME_FILE, an unreadable, empty or oversize file.
 */
export function resolveFileSecrets(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; problems: string[] } {
  const out: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of FILE_SECRET_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const file = env[fileVar]?.trim();
    if (!file) continue;
    if (env[name]?.trim()) {
      problems.push(`${fileVar}: ${name} is set too; set one of them`);
      continue;
    }
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) throw new Error("not a regular file");
      if (stat.size > MAX_SECRET_BYTES) throw new Error(`larger than ${MAX_SECRET_BYTES} bytes`);
      const value = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
      if (!value.trim()) throw new Error("the file is empty");
      out[name] = value;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.message;
      problems.push(`${fileVar}: cannot read ${file} (${why})`);
    }
  }
  return { env: out, problems };
}
