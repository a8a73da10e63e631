// What `npm start` / `digicert-scim serve` do with the environment: PORT=0 gives real URLs, and every start-up
// failure is reported like a configuration error, naming the variable.
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { startFromEnv } from "../../../src/main";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";
import { writeMapping } from "../../support/mapping";

const TOKEN = "startup-token-0123456789abcdef";
const API_KEY = "startup-api-key-0123456789";
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: API_KEY });
});
afterAll(() => sim.close());

const freshDb = () => join(mkdtempSync(join(tmpdir(), "startup-")), "scim.db");

function envWith(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_BASE_URL: sim.certcentralBaseUrl,
    DATABASE_URL: `sqlite:${freshDb()}`,
    LOG_LEVEL: "error",
    ...extra,
  };
}

async function start(env: NodeJS.ProcessEnv) {
  let stderr = "";
  const started = await startFromEnv(env, { stderr: { write: (s: string) => (stderr += s) }, logStream: new PassThrough() });
  return { started, stderr };
}

test("PORT=0 without PUBLIC_BASE_URL: Location and meta.location carry the port the system chose", async () => {
  const { started, stderr } = await start(envWith({}));
  expect(stderr).toBe("");
  try {
    const port = (started!.running.server.address() as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    expect(started!.running.url).toBe(`http://127.0.0.1:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/scim/v2/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "port0@example.com", name: { givenName: "P", familyName: "Z" }, emails: [{ value: "port0@example.com", primary: true }] }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; meta: { location: string } };
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${port}/scim/v2/Users/${body.id}`);
    expect(body.meta.location).toBe(`http://127.0.0.1:${port}/scim/v2/Users/${body.id}`);
  } finally {
    await started?.running.stop();
  }
});

const SEE = "See README.md, section Configuration.\n";

test("an unreachable database: one line naming DATABASE_URL", async () => {
  const { started, stderr } = await start(envWith({ DATABASE_URL: "postgres://bridge:s3cret-pw@127.0.0.1:1/scim" }));
  expect(started).toBeNull();
  expect(stderr).toMatch(/^Cannot start the bridge:\n {2}- DATABASE_URL: cannot prepare the database at postgres:\/\/127\.0\.0\.1:1\/scim: [^\n]+\nSee README\.md, section Configuration\.\n$/);
  expect(stderr).not.toContain("s3cret-pw");
});

test("no credential anywhere: SCIM_BEARER_TOKENS named, and the database is not created", async () => {
  const db = freshDb();
  const { started, stderr } = await start(envWith({ SCIM_BEARER_TOKENS: undefined, DATABASE_URL: `sqlite:${db}` }));
  expect(started).toBeNull();
  expect(stderr).toMatch(/^Invalid configuration:\n {2}- SCIM_BEARER_TOKENS: required: [^\n]+\n/);
  expect(stderr.endsWith(SEE)).toBe(true);
  expect(existsSync(db)).toBe(false);
});

test("a mapping naming a role DigiCert lacks: ROLE_MAPPING_FILE named on each line", async () => {
  const file = writeMapping('rules:\n  - group: "Admins"\n    roles: ["Overlord"]\n');
  const { started, stderr } = await start(envWith({ ROLE_MAPPING_FILE: file }));
  expect(started).toBeNull();
  expect(stderr).toMatch(new RegExp(`^Cannot start the bridge:\\n {2}- ROLE_MAPPING_FILE: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^\\n]*"Overlord" is not a DigiCert role[^\\n]*\\n${SEE}$`));
});

test("a port in use: PORT named", async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const { started, stderr } = await start(envWith({ PORT: String(port) }));
    expect(started).toBeNull();
    expect(stderr).toBe(`Cannot start the bridge:\n  - PORT: 127.0.0.1:${port} is in use by another process; choose another PORT\n${SEE}`);
  } finally {
    blocker.close();
  }
});
