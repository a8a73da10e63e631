// A restart during a DigiCert outage with ROLE_MAPPING_FILE set: the bridge starts degraded, takes SCIM writes into
// the outbox, and provisions them with the mapped role once DigiCert answers (never with a guessed one).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";
import { RoleMappingError } from "../../../src/config/role-mapping";
import { API_KEY, CC_CONTAINER_ID, DC_EXT, oktaUser, startHarness, type Harness } from "../../support/harness";
import { writeMapping } from "../../support/mapping";

const MANAGER = 4; // the simulator's CertCentral "Manager"

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

jest.setTimeout(30_000);

describe("start with ROLE_MAPPING_FILE while DigiCert is down", () => {
  let sim: Simulator;
  let h: Harness | undefined;
  const mappingFile = writeMapping(`default: ["Manager"]\nrules:\n  - group: "DigiCert Admins"\n    roles: ["Administrator"]\n`);
  const env = (databaseUrl: string) => ({
    ROLE_MAPPING_FILE: mappingFile,
    DATABASE_URL: databaseUrl,
    SYNC_WAIT_MS: "300",
    DIGICERT_MAX_RETRIES: "0",
    DIGICERT_CIRCUIT_THRESHOLD: "0",
    OUTBOX_RETRY_MAX_MS: "500",
    LOG_LEVEL: "info",
  });
  const outage = () => sim.failNext({ status: 503, times: 1_000_000 });

  beforeEach(async () => {
    sim = await startSimulator({ port: 0, apiKey: API_KEY, certcentral: { containerId: CC_CONTAINER_ID } });
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await sim.close();
  });

  const freshDb = () => `sqlite:${join(mkdtempSync(join(tmpdir(), "mapping-outage-")), "scim.db")}`;
  const creates = () => sim.callsTo("certcentral", "POST", /\/user$/).length;

  it("starts, says so in /readyz, answers a create 201 pending, and provisions it once with the mapped role when DigiCert is back", async () => {
    outage();
    h = await startHarness({ platform: "certcentral", sim, env: env(freshDb()) });
    const ready = await request(h.app).get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.components.rolemapping).toEqual({ status: "degraded", detail: expect.stringMatching(/^waiting for DigiCert/) });

    const res = await h.post("/scim/v2/Users", oktaUser("outage.ada@example.com"));
    expect(res.status).toBe(201);
    expect(res.body[DC_EXT].syncState).toBe("pending");
    // Nothing reached DigiCert's user endpoints while the mapping was unresolved.
    expect(creates()).toBe(0);

    sim.clearFaults();
    await until("the user to be synced", async () => (await h!.bridge.store.users.getById(res.body.id))?.syncState === "synced", 15_000);
    expect(creates()).toBe(1);
    const [dc] = sim.listUsers("certcentral").filter((u) => u.username === "outage.ada@example.com");
    expect(sim.ccTruth(dc.id)!.role_ids).toEqual([MANAGER]);
    const after = await request(h.app).get("/readyz");
    expect(after.body.components.rolemapping).toEqual({ status: "ok" });
  });

  it("resolves the mapping from the role list stored by an earlier run", async () => {
    const databaseUrl = freshDb();
    const first = await startHarness({ platform: "certcentral", sim, env: env(databaseUrl) });
    await first.close();

    outage();
    h = await startHarness({ platform: "certcentral", sim, env: env(databaseUrl) });
    const ready = await request(h.app).get("/readyz");
    expect(ready.body.components.rolemapping).toEqual({ status: "degraded", detail: expect.stringMatching(/^resolved from DigiCert's role list stored at /) });
    const res = await h.post("/scim/v2/Users", oktaUser("stored.ada@example.com"));
    expect(res.status).toBe(201);
    expect(res.body[DC_EXT].syncState).toBe("pending");

    sim.clearFaults();
    await until("the user to be synced", async () => (await h!.bridge.store.users.getById(res.body.id))?.syncState === "synced");
    const [dc] = sim.listUsers("certcentral").filter((u) => u.username === "stored.ada@example.com");
    expect(sim.ccTruth(dc.id)!.role_ids).toEqual([MANAGER]);
    expect(creates()).toBe(1);
  });

  it("while the mapping waits, a deactivation still reaches DigiCert and a create waits (never a guessed role)", async () => {
    const databaseUrl = freshDb();
    const first = await startHarness({ platform: "certcentral", sim, env: env(databaseUrl) });
    const leaving = await first.post("/scim/v2/Users", oktaUser("leaving.ada@example.com"));
    expect(leaving.body[DC_EXT].syncState).toBe("synced");
    await first.close();
    // No stored role list (as on a bridge upgraded during the outage), and DigiCert's role list unavailable.
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(databaseUrl.slice("sqlite:".length));
    db.prepare("delete from digicert_role_lists").run();
    db.close();
    sim.failNext({ path: /\/container\/\d+\/role$/, status: 503, times: 1_000_000 });

    h = await startHarness({ platform: "certcentral", sim, env: env(databaseUrl) });
    expect((await request(h.app).get("/readyz")).body.components.rolemapping.detail).toMatch(/^waiting for DigiCert/);
    sim.clearCalls();
    const off = await h.patch(`/scim/v2/Users/${leaving.body.id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", path: "active", value: false }],
    });
    expect(off.status).toBe(200);
    const newcomer = await h.post("/scim/v2/Users", oktaUser("waiting.ada@example.com"));
    expect(newcomer.status).toBe(201);
    await until("the deactivation to reach DigiCert", async () => sim.callsTo("certcentral", "DELETE", /\/user\/\d+$/).length === 1);
    expect(sim.listUsers("certcentral").map((u) => u.username)).not.toContain("leaving.ada@example.com");
    await new Promise((r) => setTimeout(r, 1000));
    expect(creates()).toBe(0);
    expect((await h.bridge.store.users.getById(newcomer.body.id))!.syncState).toBe("pending");
  });

  it("still refuses to start with a mapping file that does not parse", async () => {
    outage();
    const broken = writeMapping("rules:\n  - group: [unclosed\n");
    await expect(startHarness({ platform: "certcentral", sim, env: { ...env(freshDb()), ROLE_MAPPING_FILE: broken } })).rejects.toBeInstanceOf(RoleMappingError);
  });
});
