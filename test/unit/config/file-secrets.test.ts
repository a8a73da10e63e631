import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/config";
import { redact } from "../../../src/log/logger";
import { registerSecretsFromEnv } from "../../../src/main";

const dir = mkdtempSync(join(tmpdir(), "file-secrets-"));
function secretFile(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const base = { SCIM_BEARER_TOKENS: "tok-0123456789abcdef", DIGICERT_API_KEY: "key-0123456789abcdef" };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("secrets from files (NAME_FILE)", () => {
  test("DIGICERT_API_KEY_FILE, SCIM_BEARER_TOKENS_FILE and DATABASE_URL_FILE are read, one trailing newline dropped", () => {
    const config = loadConfig({
      DIGICERT_API_KEY_FILE: secretFile("key", "file-key-0123456789\n"),
      SCIM_BEARER_TOKENS_FILE: secretFile("tokens", "okta=file-token-0123456789abcdef\n"),
      DATABASE_URL_FILE: secretFile("db", "sqlite::memory:"),
    });
    expect(config.digicert.apiKey).toBe("file-key-0123456789");
    expect(config.scim.bearerTokens.map((t) => t.name)).toEqual(["okta"]);
    expect(config.databaseUrl).toBe("sqlite::memory:");
  });

  test("problems name the variable and the file, never the content", () => {
    const content = "content-that-is-secret-42";
    const both = problemsOf({ ...base, DIGICERT_API_KEY_FILE: secretFile("both", content) });
    expect(both).toEqual(["DIGICERT_API_KEY_FILE: DIGICERT_API_KEY is set too; set one of them"]);
    const missing = problemsOf({ SCIM_BEARER_TOKENS: base.SCIM_BEARER_TOKENS, DIGICERT_API_KEY_FILE: join(dir, "nope") });
    expect(missing).toEqual([`DIGICERT_API_KEY_FILE: cannot read ${join(dir, "nope")} (no such file)`]);
    const empty = problemsOf({ SCIM_BEARER_TOKENS: base.SCIM_BEARER_TOKENS, DIGICERT_API_KEY_FILE: secretFile("empty", "\n") });
    expect(empty[0]).toMatch(/^DIGICERT_API_KEY_FILE: cannot read .* \(the file is empty\)$/);
    mkdirSync(join(dir, "adir"));
    const directory = problemsOf({ SCIM_BEARER_TOKENS: base.SCIM_BEARER_TOKENS, DIGICERT_API_KEY_FILE: join(dir, "adir") });
    expect(directory[0]).toContain("not a regular file");
    for (const p of [...both, ...missing, ...empty, ...directory]) expect(p).not.toContain(content);
  });

  test("a secret read from a file is masked in logs like one from the environment", () => {
    const env = { SCIM_BEARER_TOKENS: base.SCIM_BEARER_TOKENS, DIGICERT_API_KEY_FILE: secretFile("masked", "masked-file-key-987654321\n") };
    registerSecretsFromEnv(require("../../../src/config").resolveFileSecrets(env).env);
    expect(JSON.stringify(redact({ message: "calling with masked-file-key-987654321" }))).not.toContain("masked-file-key-987654321");
  });
});
