import { loadConfig } from "../../../src/config";
import { parseDuration } from "../../../src/config/duration";
import { configProblems } from "../../support/config";

// RECONCILE_INTERVAL: how often the server reconciles (report only); unset = never.

const base = { DIGICERT_API_KEY: "super-secret-api-key", SCIM_BEARER_TOKENS: "scim-token-0123456789" };

describe("RECONCILE_INTERVAL", () => {
  test("unset or empty: no schedule", () => {
    expect(loadConfig(base).reconcile).toEqual({});
    expect(loadConfig({ ...base, RECONCILE_INTERVAL: " " }).reconcile).toEqual({});
  });

  test.each([
    ["6h", 6 * 3_600_000],
    ["30m", 30 * 60_000],
    ["90s", 90_000],
    ["1.5h", 5_400_000],
    ["1d", 86_400_000],
    [" 2H ", 7_200_000],
  ])("%s is %d ms", (value, ms) => {
    expect(loadConfig({ ...base, RECONCILE_INTERVAL: value }).reconcile).toEqual({ intervalMs: ms });
  });

  test.each(["6", "h", "-1h", "6 hours", "500ms", "31d"])("%s is refused, naming the variable", (value) => {
    const problems = configProblems({ ...base, RECONCILE_INTERVAL: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^RECONCILE_INTERVAL: /);
  });

  test("the messages say what a duration looks like and the bounds", () => {
    expect(() => parseDuration("soon", { minMs: 1000, maxMs: 2000 })).toThrow(/duration such as 6h, 30m or 90s/);
    expect(() => parseDuration("5s", { minMs: 1000, maxMs: 2000 })).toThrow("must be between 1s and 2s; got 5s");
  });
});
