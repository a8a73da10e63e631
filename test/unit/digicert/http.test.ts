import { extractProblems, joinMessages, parseRetryAfter } from "../../../src/digicert/http";
import { classifyCertCentral } from "../../../src/digicert/certcentral/client";
import { classifyOne } from "../../../src/digicert/one/client";
import { maxInWindow } from "../../support/simulator/faults";

describe("error bodies", () => {
  test("both envelope styles", () => {
    expect(extractProblems({ errors: [{ code: "a", message: "A" }, { code: "b" }] })).toEqual([
      { code: "a", message: "A" },
      { code: "b", message: undefined },
    ]);
    expect(extractProblems({ error: { code: "c", message: "C" } })).toEqual([{ code: "c", message: "C" }]);
    expect(extractProblems("nope")).toEqual([]);
    expect(joinMessages([{ message: "x" }, { code: "y" }])).toBe("x; y");
  });
});

describe("Retry-After", () => {
  test("seconds and HTTP-date", () => {
    expect(parseRetryAfter("12")).toBe(12);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("CertCentral classifier", () => {
  test.each([
    [403, [{ code: "access_denied|access_denied_invalid_key" }], "auth"],
    [403, [{ code: "access_denied|missing_permission" }], "forbidden"],
    [404, [{ code: "not_found|user" }], "not_found"],
    [409, [{ code: "whatever" }], "duplicate"],
    [400, [{ code: "invalid_param|username", message: "Username is already taken" }], "duplicate"],
    [400, [{ code: "invalid_param|email", message: "email already exists" }], "validation"],
    [400, [{ code: "missing_param|first_name", message: "first_name is required." }], "validation"],
    [413, [], "validation"],
    [422, [], "validation"],
  ])("%i %j → %s", (status, problems, kind) => {
    expect(classifyCertCentral(status, problems).kind).toBe(kind);
  });
  test("auth message says the key was refused", () => {
    expect(classifyCertCentral(403, [{ code: "access_denied|access_denied_invalid_key" }]).message).toMatch(/refused the API key/);
  });
});

describe("ONE classifier", () => {
  test.each([
    [401, [{ code: "invalid_api_key" }], "auth"],
    [403, [{ code: "access_denied" }], "forbidden"],
    [404, [{ code: "resource_not_found" }], "not_found"],
    [409, [], "duplicate"],
    [400, [{ code: "duplicate_error" }], "duplicate"],
    [400, [{ code: "invalid_request", message: "x" }], "validation"],
  ])("%i %j → %s", (status, problems, kind) => {
    expect(classifyOne(status, problems).kind).toBe(kind);
  });
});

test("simulator observedRate counts the densest half-open window", () => {
  expect(maxInWindow([0, 100, 999, 1000, 1500], 1000)).toBe(3);
  expect(maxInWindow([], 1000)).toBe(0);
});
