// Nothing answers without authentication except /healthz and /readyz, and those two reveal no configuration.
// The app is built with a configuration full of recognisable values; every route it serves (found by walking the
// Express router, so a new route cannot be forgotten here) is asked anonymously and must refuse, and every body and
// header of /healthz and /readyz (ready, degraded and failing) is searched for any of those values.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Express } from "express";
import request from "supertest";
import { startHarness, API_KEY, type Harness } from "../../support/harness";

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const pkg = require("../../../package.json") as { version: string };

const DIR = mkdtempSync(join(tmpdir(), "recognisable-store-dir-"));
const VALUES = {
  PUBLIC_BASE_URL: "https://scim-bridge.recognisable-corp.example",
  SCIM_BEARER_TOKENS: "okta-recognisable=recognisable-scim-token-0001",
  SCIM_BASIC_USERS: `basic-recognisable:sha256:${hex("recognisable-basic-password")}`,
  OAUTH_CLIENTS: `entra-recognisable:sha256:${hex("recognisable-client-secret")}`,
  OAUTH_SIGNING_KEY: "recognisable-signing-key-0123456789abcdefghij",
  ADMIN_TOKENS: "ops-recognisable=recognisable-admin-token-0002",
  ADMIN_BASIC_USERS: `alice-recognisable:sha256:${hex("recognisable-admin-password")}`,
  METRICS_TOKEN: "prom-recognisable=recognisable-metrics-token-0003",
  DATABASE_URL: `sqlite:${join(DIR, "recognisable.db")}`,
  REDIS_URL: "redis://recognisable-user:recognisable-redis-pass@127.0.0.1:1",
  BRIDGE_REPLICAS: "7",
  SCIM_MAX_RESULTS: "321",
  OUTBOX_MAX_PENDING: "4321",
  RECONCILE_INTERVAL: "17h",
  DIGICERT_MAX_RETRIES: "0",
  DIGICERT_TIMEOUT_MS: "700",
  AUTH_FAILURE_LIMIT: "off",
  TRUST_PROXY: "loopback",
};

/** Every text that must never appear in an unauthenticated health answer. */
function forbidden(h: Harness): (string | RegExp)[] {
  const simPort = new URL(h.sim.url).port;
  return [
    /recognisable/i,
    /example/i,
    /127\.0\.0\.1/,
    /localhost/i,
    new RegExp(`:${simPort}\\b`),
    /https?:\/\//i,
    /redis:\/\//i,
    /sqlite|postgres/i,
    new RegExp(DIR.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    /\/tmp\b/,
    /\b4321\b|\b321\b|\b17h\b|1\/7\b|\b700\b/,
    new RegExp(`\\b${pkg.version.replace(/\./g, "\\.")}\\b`),
    new RegExp(process.version.replace(/\./g, "\\.")),
    /node\.?js|express|scimmy|kysely/i,
    /digicert\.com|certcentral|\bone\b/i,
    new RegExp(API_KEY),
    /okta|entra|alice|ops-|prom-/i,
    /stack|Error:|    at /,
  ];
}

/** Method and path of every route and mount the app serves, read from Express's router. */
function servedPaths(app: Express): string[] {
  const stack = (app as unknown as { _router: { stack: { route?: { path: string; methods: Record<string, boolean> }; regexp: RegExp & { fast_slash?: boolean } }[] } })._router.stack;
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) out.push(...Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`));
    else if (!layer.regexp.fast_slash) {
      const path = layer.regexp.source.replace(/^\^/, "").replace(/\\\/\?\(\?=\\\/\|\$\)$/i, "").replace(/\\\//g, "/");
      out.push(`USE ${path}`);
    }
  }
  // app.use(path, auth, router) is one layer per handler.
  return [...new Set(out)];
}

const SCIM = "urn:ietf:params:scim:schemas:core:2.0:User";

/** What an anonymous client tries, per served path. */
const PROBES: Record<string, { method: "get" | "post" | "put" | "patch" | "delete"; path: string; body?: unknown }[]> = {
  "USE /scim/v2": [
    ...["/Users", "/Groups", "/Schemas", "/ResourceTypes", "/ServiceProviderConfig", "/Roles", "/Users/x", "/Groups/x", "/Roles/x"].map((p) => ({
      method: "get" as const,
      path: `/scim/v2${p}`,
    })),
    { method: "get", path: "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User" },
    { method: "get", path: "/scim/v2/ResourceTypes/User" },
    { method: "get", path: "/scim/v2" },
    { method: "get", path: "/scim/v2/NoSuchResource" },
    { method: "post", path: "/scim/v2/.search", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"] } },
    { method: "post", path: "/scim/v2/Users/.search", body: {} },
    { method: "post", path: "/scim/v2/Users", body: { schemas: [SCIM], userName: "anon@example.com" } },
    { method: "put", path: "/scim/v2/Users/x", body: { schemas: [SCIM], userName: "anon@example.com" } },
    { method: "patch", path: "/scim/v2/Users/x", body: {} },
    { method: "delete", path: "/scim/v2/Users/x" },
    { method: "post", path: "/scim/v2/Groups", body: {} },
    { method: "post", path: "/scim/v2/Bulk", body: {} },
  ],
  // The default tenant's second path (every tenant is at /t/{tenant}/scim/v2).
  "USE /t/default/scim/v2": [
    { method: "get", path: "/t/default/scim/v2/Users" },
    { method: "post", path: "/t/default/scim/v2/Users", body: { schemas: [SCIM], userName: "anon@example.com" } },
    { method: "get", path: "/t/default/scim/v2/ServiceProviderConfig" },
  ],
  "GET /metrics": [{ method: "get", path: "/metrics" }],
  "USE /admin": ["/admin", "/admin/", "/admin/api/status", "/admin/nope"].map((path) => ({ method: "get" as const, path })),
  "USE /oauth/token": [
    { method: "post", path: "/oauth/token", body: { grant_type: "client_credentials" } },
    { method: "get", path: "/oauth/token" },
  ],
};
const OPEN = ["GET /healthz", "GET /readyz"];

describe("anonymous requests", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", databaseUrl: VALUES.DATABASE_URL, env: VALUES });
  });
  afterAll(async () => h.close());

  test("the routes walked here are all the app serves", () => {
    expect(servedPaths(h.app).sort()).toEqual([...OPEN, ...Object.keys(PROBES)].sort());
  });

  test("every route but /healthz and /readyz refuses an anonymous request, and the refusal shows nothing", async () => {
    const bad = forbidden(h).filter((p) => !/example|okta|entra|alice/i.test(String(p)));
    for (const [served, probes] of Object.entries(PROBES)) {
      for (const probe of probes) {
        let t = request(h.app)[probe.method](probe.path);
        if (probe.body !== undefined) {
          t = probe.path.startsWith("/oauth") ? t.type("form").send(probe.body as object) : t.set("Content-Type", "application/scim+json").send(JSON.stringify(probe.body));
        }
        const res = await t;
        const where = `${served}: ${probe.method.toUpperCase()} ${probe.path}`;
        // 401 with a challenge; GET /oauth/token is 405 (token requests are POSTs; it tells nothing either).
        const expected = probe.path === "/oauth/token" && probe.method === "get" ? 405 : 401;
        expect({ where, status: res.status }).toEqual({ where, status: expected });
        if (expected === 401) expect({ where, challenge: res.headers["www-authenticate"] }).toEqual({ where, challenge: expect.any(String) });
        const text = JSON.stringify({ body: res.text, headers: res.headers });
        for (const p of bad) expect({ where, leaks: typeof p === "string" ? text.includes(p) : p.test(text), pattern: String(p) }).toMatchObject({ leaks: false });
        expect(text).not.toContain("scim_requests_total");
        expect(text).not.toMatch(/"Resources"|"totalResults"/);
      }
    }
  });

  test("/healthz and /readyz answer without credentials and reveal no configuration (ready, degraded, failing)", async () => {
    const bodies: string[] = [];
    const keep = async (path: string) => {
      const res = await request(h.app).get(path);
      bodies.push(JSON.stringify({ status: res.status, body: res.text, headers: res.headers }));
      return res;
    };
    expect((await keep("/healthz")).status).toBe(200);
    // Ready, with Redis unreachable (ratelimit degraded) once the pacer has noticed.
    for (let i = 0; i < 40; i++) {
      const res = await keep("/readyz");
      if (res.body.components?.ratelimit?.status === "degraded") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(bodies.some((b) => b.includes("degraded"))).toBe(true);
    expect(bodies.join("\n")).toContain("Redis unreachable");
    bodies.push(JSON.stringify((await keep("/healthz")).body));
    for (const b of bodies) for (const p of forbidden(h)) expect({ body: b, leaks: typeof p === "string" ? b.includes(p) : p.test(b), pattern: String(p) }).toMatchObject({ leaks: false });
  });
});

describe("/readyz while DigiCert fails", () => {
  test.each([
    ["refuses the key", { status: 401, body: { errors: [{ code: "invalid_key", message: "recognisable detail from https://www.digicert.com" }] } }],
    ["answers 503", { status: 503, body: "recognisable upstream page at https://www.digicert.com/services/v2" }],
    ["drops the connection", { network: "reset" as const }],
  ])("DigiCert %s: the answer names no host, URL or value", async (_name, fault) => {
    const h = await startHarness({ platform: "certcentral", env: { ...VALUES, DATABASE_URL: "sqlite::memory:", REDIS_URL: undefined } });
    try {
      h.sim.failNext({ ...fault, times: 50 });
      const res = await request(h.app).get("/readyz");
      expect(res.body.components.digicert.status).not.toBe("ok");
      const text = JSON.stringify({ body: res.text, headers: res.headers });
      for (const p of forbidden(h)) expect({ text, leaks: typeof p === "string" ? text.includes(p) : p.test(text), pattern: String(p) }).toMatchObject({ leaks: false });
    } finally {
      h.sim.clearFaults();
      await h.close();
    }
  });
});

describe("/metrics", () => {
  test("an admin credential alone makes /metrics need one", async () => {
    const h = await startHarness({ platform: "one", env: { ADMIN_TOKENS: VALUES.ADMIN_TOKENS, AUTH_FAILURE_LIMIT: "off" } });
    try {
      expect((await request(h.app).get("/metrics")).status).toBe(401);
      expect((await request(h.app).get("/metrics").set("Authorization", "Bearer recognisable-admin-token-0002")).status).toBe(200);
      expect(h.logs()).not.toContain("GET /metrics is open");
    } finally {
      await h.close();
    }
  });

  test("with neither METRICS_TOKEN nor an ADMIN_* variable it is open, and the start says so", async () => {
    const h = await startHarness({ platform: "one" });
    try {
      expect((await request(h.app).get("/metrics")).status).toBe(200);
      expect(h.logs()).toMatch(/"level":"warn","message":"GET \/metrics is open to anyone who can reach the bridge/);
    } finally {
      await h.close();
    }
  });
});
