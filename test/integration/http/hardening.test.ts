import net from "node:net";
import type { Server } from "node:http";
import request from "supertest";
import { createHttpServer } from "../../../src/http/server";
import { oktaUser, startHarness, TOKEN, type Harness } from "../../support/harness";

// HTTP hardening: no framework fingerprint, no CORS, a configurable body limit, and slow or oversize requests
// answered with SCIM errors by the server itself.

describe("HTTP hardening", () => {
  let h: Harness;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { SCIM_MAX_BODY_BYTES: "4096" } });
    server = createHttpServer(h.app, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000 });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await h.close();
  });

  test("no x-powered-by, and no CORS headers even for a preflight from another origin", async () => {
    const res = await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${TOKEN}`).set("Origin", "https://evil.example");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await request(h.app)
      .options("/scim/v2/Users")
      .set("Origin", "https://evil.example")
      .set("Access-Control-Request-Method", "POST")
      .set("Access-Control-Request-Headers", "authorization,content-type");
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect(preflight.headers["access-control-allow-headers"]).toBeUndefined();
  });

  test("a body over SCIM_MAX_BODY_BYTES is a SCIM 413 and nothing is stored", async () => {
    const body = oktaUser(undefined, { nickName: "x".repeat(5000) });
    const res = await h.post("/scim/v2/Users", body);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "413" });
    expect(await h.bridge.store.users.getByUserName(body.userName as string)).toBeNull();
    expect((await h.post("/scim/v2/Users", oktaUser())).status).toBe(201);
  });

  function raw(payload: string, waitMs: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(payload));
      let got = "";
      socket.on("data", (d) => (got += d.toString()));
      const done = () => resolve(got);
      socket.on("close", done);
      setTimeout(() => {
        socket.destroy();
        done();
      }, waitMs);
    });
  }

  test("a slow-loris client that never finishes its headers is cut off with a SCIM 408", async () => {
    const started = Date.now();
    const answer = await raw("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Slow: a", 6000);
    expect(Date.now() - started).toBeLessThan(5500);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"status":"408"');
    expect(answer).toMatch(/content-type: application\/scim\+json/i);
  });

  test("oversize headers or URL are a SCIM 431, a garbage request line a SCIM 400", async () => {
    const big = await raw(`GET /scim/v2/Users?filter=${"a".repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 3000);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    expect(big).toContain('"status":"431"');
    const garbage = await raw("\u0000\u0001 NOT HTTP\r\n\r\n", 3000);
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(garbage).toContain("urn:ietf:params:scim:api:messages:2.0:Error");
  });
});
