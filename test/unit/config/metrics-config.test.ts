import { createHash } from "node:crypto";
import { loadConfig } from "../../../src/config";
import { redact } from "../../../src/log/logger";
import { registerSecretsFromEnv } from "../../../src/main";
import { configProblems } from "../../support/config";

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const base = { DIGICERT_API_KEY: "super-secret-api-key", SCIM_BEARER_TOKENS: "okta=scim-token-0123456789" };

describe("METRICS_TOKEN", () => {
  test("unset: /metrics is open", () => {
    expect(loadConfig(base).metricsTokens).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_TOKEN: " " }).metricsTokens).toBeUndefined();
  });

  test("plain, named and sha256: forms, several for rotation; only digests are kept", () => {
    const c = loadConfig({ ...base, METRICS_TOKEN: `metrics-token-1, prom=metrics-token-2,old=sha256:${hex("metrics-token-3")}` });
    expect(c.metricsTokens!.map((t) => t.name)).toEqual(["token-1", "prom", "old"]);
    expect(c.metricsTokens!.map((t) => t.sha256.toString("hex"))).toEqual([hex("metrics-token-1"), hex("metrics-token-2"), hex("metrics-token-3")]);
  });

  test("a bad digest or a SCIM token reused for /metrics is refused, naming the variable and no secret", () => {
    const found = configProblems({ ...base, METRICS_TOKEN: "p=sha256:zz-secret,q=scim-token-0123456789" });
    expect(found).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: token "p" is sha256: but not 64 hex digits/),
      expect.stringMatching(/^METRICS_TOKEN: token "q" is also in SCIM_BEARER_TOKENS/),
    ]);
    expect(found.join("\n")).not.toMatch(/zz-secret|scim-token-0123456789/);
  });

  test("its tokens and digests are masked in logs", () => {
    const digest = hex("metrics-hashed-token");
    registerSecretsFromEnv({ ...base, METRICS_TOKEN: `prom=metrics-plain-token-xyz,sha256:${digest}` });
    const out = JSON.stringify(redact({ a: "metrics-plain-token-xyz", b: digest }));
    expect(out).not.toContain("metrics-plain-token-xyz");
    expect(out).not.toContain(digest);
  });
});
