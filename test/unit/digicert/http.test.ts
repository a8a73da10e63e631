import { extractProblems, joinMessages, parseRetryAfter } from "../../../src/digicert/http";
import { classifyCertCentral } from "../../../src/digicert/certcentral/client";
import { classifyOne } from "../../../src/digicert/one/client";
import { maxInWindow } from "../../../src/simulator/faults";

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

  test("errors as an object: one problem, or a map from field or code to message(s) (§D.8)", () => {
    expect(extractProblems({ errors: { code: "x", message: "y" } })).toEqual([{ code: "x", message: "y" }]);
    expect(extractProblems({ errors: { code: "x" } })).toEqual([{ code: "x", message: undefined }]);
    // A fragment names its field again; a whole sentence is kept as DigiCert wrote it.
    expect(extractProblems({ errors: { username: "is not available" } })).toEqual([
      { code: "username", message: "username is not available" },
    ]);
    expect(extractProblems({ errors: { duplicate_username: "Username jill already exists." } })).toEqual([
      { code: "duplicate_username", message: "Username jill already exists." },
    ]);
    expect(extractProblems({ errors: { "invalid_param|username": "username contains invalid characters.", "missing_param|email": "is required" } })).toEqual([
      { code: "invalid_param|username", message: "username contains invalid characters." },
      { code: "missing_param|email", message: "email is required" },
    ]);
    expect(extractProblems({ errors: { first_name: ["is required", "is too long"], email: { message: "Bad email." } } })).toEqual([
      { code: "first_name", message: "first_name is required" },
      { code: "first_name", message: "first_name is too long" },
      { code: "email", message: "Bad email." },
    ]);
    expect(extractProblems({ errors: { username: { code: "taken" } } })).toEqual([{ code: "taken", message: undefined }]);
    expect(extractProblems({ errors: "Something went wrong." })).toEqual([{ message: "Something went wrong." }]);
    expect(extractProblems({ errors: {} })).toEqual([]);
    expect(extractProblems({ errors: { username: 42 } })).toEqual([]);
  });

  test("the array form, ONE's error object and a bare problem still read as before", () => {
    expect(extractProblems({ errors: [{ code: "duplicate_error", message: "Nickname x already exists." }] })).toEqual([
      { code: "duplicate_error", message: "Nickname x already exists." },
    ]);
    expect(extractProblems({ error: { code: "invalid_api_key", message: "Invalid or missing API key" } })).toEqual([
      { code: "invalid_api_key", message: "Invalid or missing API key" },
    ]);
    expect(extractProblems({ code: "resource_not_found", message: "No such user." })).toEqual([
      { code: "resource_not_found", message: "No such user." },
    ]);
    expect(extractProblems({ errors: [] })).toEqual([]);
    expect(extractProblems(undefined)).toEqual([]);
  });

  test.each([
    [{ errors: { username: "is not available" } }, 400, "validation"], // the client looks the username up (client.test.ts)
    [{ errors: { username: "is already taken" } }, 400, "duplicate"],
    [{ errors: { bad_request: "That username is already in use by another user." } }, 400, "duplicate"],
    [{ errors: { duplicate_username: "Username jill already exists." } }, 409, "duplicate"],
    [{ errors: { "access_denied|access_denied_invalid_key": "Access denied." } }, 403, "auth"],
    [{ errors: { first_name: "is required" } }, 400, "validation"],
  ])("CertCentral object-form body %j (%i) classifies as %s", (body, status, kind) => {
    expect(classifyCertCentral(status, extractProblems(body)).kind).toBe(kind);
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
