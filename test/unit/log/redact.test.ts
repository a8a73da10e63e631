import { MAX_MASK_DEPTH, redact, registerSecret, TOO_DEEP } from "../../../src/log/logger";
import { maskValue, safeChanges } from "../../../src/provisioning/audit";

// The one masking walker behind the log and the audit trail: iterative (no input exhausts the stack), cut at a
// depth with a marker, secret-named keys masked and registered secret values scrubbed at every depth it keeps.

function deep(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { nested: v };
  return v;
}

function depthOf(v: unknown): number {
  let d = 0;
  while (v !== null && typeof v === "object") {
    v = Array.isArray(v) ? v[0] : (v as { nested: unknown }).nested;
    d++;
  }
  return d;
}

describe("masking walker", () => {
  const SECRET = "registered-secret-31337";
  beforeAll(() => registerSecret(SECRET));

  test("100,000 levels neither throw nor survive past the cut", () => {
    const input = deep(100_000, "bottom");
    for (const out of [redact(input), maskValue(input)]) {
      expect(depthOf(out)).toBe(MAX_MASK_DEPTH);
      expect(JSON.stringify(out)).toContain(TOO_DEEP);
    }
    expect(() => safeChanges([{ path: "title", after: input }])).not.toThrow();
  });

  test("secret-named keys are masked and registered values scrubbed 50 levels down, order kept", () => {
    const input = deep(50, { password: "p", apiKey: "k", Authorization: "Bearer x", note: `has ${SECRET}` });
    const text = JSON.stringify(maskValue(input));
    expect(text).toContain('{"password":"[REDACTED]","apiKey":"[REDACTED]","Authorization":"[REDACTED]","note":"has [REDACTED]"}');
    const logged = JSON.stringify(redact(input));
    expect(logged).toContain('"password":"[REDACTED]"');
    expect(logged).not.toContain(SECRET);
  });

  test("shallow values are copied as they were", () => {
    const input = { a: [1, "two", null, true, { b: undefined }], e: new Error(`boom ${SECRET}`) };
    expect(redact(input)).toEqual({ a: [1, "two", null, true, { b: undefined }], e: { name: "Error", message: "boom [REDACTED]" } });
  });
});
