// The four resilience variables (DIGICERT_MAX_RETRIES, DIGICERT_RETRY_BUDGET_MS, DIGICERT_CIRCUIT_THRESHOLD,
// DIGICERT_CIRCUIT_COOLDOWN_MS) as loadConfig reads them.
import { loadConfig } from "../../../src/config";
import { configProblems } from "../../support/config";

const base = { SCIM_BEARER_TOKENS: "a-token-for-tests", DIGICERT_API_KEY: "super-secret-api-key" };

const problems = configProblems;

describe("DigiCert retry and circuit configuration", () => {
  test("defaults", () => {
    expect(loadConfig(base).digicert).toMatchObject({
      maxRetries: 3,
      retryBudgetMs: 8000,
      circuitThreshold: 5,
      circuitCooldownMs: 30000,
    });
  });

  test("values are read (empty = default)", () => {
    const c = loadConfig({
      ...base,
      DIGICERT_MAX_RETRIES: "0",
      DIGICERT_RETRY_BUDGET_MS: "120000",
      DIGICERT_CIRCUIT_THRESHOLD: " 10 ",
      DIGICERT_CIRCUIT_COOLDOWN_MS: "",
    });
    expect(c.digicert).toMatchObject({ maxRetries: 0, retryBudgetMs: 120000, circuitThreshold: 10, circuitCooldownMs: 30000 });
  });

  test.each([
    ["DIGICERT_MAX_RETRIES", "11"],
    ["DIGICERT_MAX_RETRIES", "-1"],
    ["DIGICERT_MAX_RETRIES", "two"],
    ["DIGICERT_RETRY_BUDGET_MS", "120001"],
    ["DIGICERT_RETRY_BUDGET_MS", "1.5"],
    ["DIGICERT_CIRCUIT_THRESHOLD", "1001"],
    ["DIGICERT_CIRCUIT_COOLDOWN_MS", "999"],
    ["DIGICERT_CIRCUIT_COOLDOWN_MS", "3600001"],
  ])("%s=%s is refused, naming the variable", (key, value) => {
    const found = problems({ ...base, [key]: value });
    expect(found).toEqual([expect.stringMatching(new RegExp(`^${key}: must be a whole number between`))]);
  });
});
