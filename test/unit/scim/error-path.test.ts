// The one error path: a failure of ours thrown inside a SCIMMY handler reaches the app's error handler as the
// ScimResponseError it is (status, scimType, detail, Retry-After intact), whatever status SCIMMY could render.
import express from "express";
import request from "supertest";
import SCIMMYRouters, { SCIMMY } from "scimmy-routers";
import { errorHandler } from "../../../src/http/errors";
import { silentLogger } from "../../../src/log/logger";
import { ScimResponseError, failureOf, type ScimFailure } from "../../../src/scim/errors";

const failures: Record<string, ScimFailure> = {
  busy: { status: 503, detail: "DigiCert is unavailable; retry later", retryAfterSeconds: 7 },
  slow: { status: 429, detail: "rate limited", retryAfterSeconds: 3 },
  key: { status: 502, detail: "DigiCert refused the bridge's API key" },
  taken: { status: 409, scimType: "uniqueness", detail: "userName is already taken" },
};

function app() {
  SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    egress: async (resource: { id?: string }) => {
      throw new ScimResponseError(failures[resource.id ?? ""] ?? { status: 404, detail: "no such user" });
    },
  });
  const a = express();
  a.use("/scim/v2", new SCIMMYRouters({ type: "bearer", handler: () => "" }) as unknown as express.Router);
  a.use(errorHandler(silentLogger()));
  return a;
}

describe("ScimResponseError", () => {
  const server = app();

  test.each(Object.entries(failures))("%s: rendered by the app's error handler as its ScimFailure says", async (id, f) => {
    const res = await request(server).get(`/scim/v2/Users/${id}`);
    expect(res.status).toBe(f.status);
    expect(res.headers["retry-after"]).toBe(f.retryAfterSeconds === undefined ? undefined : String(f.retryAfterSeconds));
    expect(JSON.parse(res.text)).toEqual({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
      status: String(f.status),
      ...(f.scimType ? { scimType: f.scimType } : {}),
      detail: f.detail,
    });
  });

  test("is a SCIMMY error (SCIMMY rethrows it untouched) and maps to its own failure", () => {
    const err = new ScimResponseError(failures.busy);
    expect(err).toBeInstanceOf(SCIMMY.Types.Error);
    expect(failureOf(err)).toBe(failures.busy);
  });
});
