import { startSimulator, Simulator } from "../../../src/simulator";
import { createDigiCertClient } from "../../../src/digicert";
import { silentLogger } from "../../../src/log/logger";
import { clientFor, expectDigiCertError, flush } from "./support";

const input = { username: "t.user", firstName: "T", lastName: "User", email: "t@example.com" };

describe.each(["certcentral", "one"] as const)("transport failures (%s)", (platform) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());
  const roles = platform === "certcentral" ? ["5"] : ["AM_DEFAULT_USER"];

  test("5xx on a GET is retried, then succeeds", async () => {
    const { client, lines } = clientFor(sim, platform);
    sim.failNext({ platform, method: "GET", status: 502, times: 2 });
    await client.ping();
    expect(sim.callsTo(platform, "GET", "/user/me")).toHaveLength(3);
    await flush();
    expect(lines.filter((l) => l.message === "digicert call").map((l) => l.status)).toEqual([502, 502, 200]);
    await client.close();
  });

  test("5xx four times on a GET → unavailable after 4 attempts (3 retries by default)", async () => {
    const { client } = clientFor(sim, platform);
    sim.failNext({ platform, method: "GET", status: 500, times: 4 });
    const e = await expectDigiCertError(client.ping(), "unavailable");
    expect(e.status).toBe(500);
    expect(sim.callsTo(platform, "GET", "/user/me")).toHaveLength(4);
    await client.close();
  });

  test("5xx on a write is never retried", async () => {
    const { client } = clientFor(sim, platform);
    sim.failNext({ platform, method: "POST", status: 500 });
    await expectDigiCertError(client.createUser(input, roles), "unavailable");
    expect(sim.callsTo(platform, "POST")).toHaveLength(1);
    await client.close();
  });

  test("timeout → unavailable; GET retried, write not", async () => {
    const { client, lines } = clientFor(sim, platform, { timeoutMs: 150 });
    sim.failNext({ platform, method: "GET", status: 200, delayMs: 600, times: 4 });
    const e = await expectDigiCertError(client.ping(), "unavailable");
    expect(e.message).toMatch(/timeout/);
    expect(sim.callsTo(platform, "GET")).toHaveLength(4);
    sim.failNext({ platform, method: "POST", delayMs: 600 });
    await expectDigiCertError(client.createUser(input, roles), "unavailable");
    expect(sim.callsTo(platform, "POST")).toHaveLength(1);
    await flush();
    expect(lines.filter((l) => l.message === "digicert call")[0]).toMatchObject({ error: "timeout" });
    await client.close();
  });

  test("connection reset → unavailable", async () => {
    const { client } = clientFor(sim, platform);
    sim.failNext({ platform, method: "POST", network: "reset" });
    const e = await expectDigiCertError(client.createUser(input, roles), "unavailable");
    expect(e.message).toMatch(/connection reset/);
    sim.failNext({ platform, method: "GET", network: "reset" });
    await client.ping(); // the retry gets through
    await client.close();
  });

  test("a 200 that is not JSON → unexpected, without echoing the body", async () => {
    // The simulator always answers JSON, so a bare server plays a proxy's HTML page.
    const html = await startHtmlServer();
    const c = createDigiCertClient({ platform, apiKey: "k-123456", baseUrl: html.url, timeoutMs: 1000 }, silentLogger());
    const e = await expectDigiCertError(c.ping(), "unexpected");
    expect(e.message).not.toContain("secret-page");
    await c.close();
    await html.close();
  });

  test("connection refused → unavailable", async () => {
    const c = createDigiCertClient({ platform, apiKey: "k-123456", baseUrl: "http://127.0.0.1:1", timeoutMs: 1000 }, silentLogger());
    const e = await expectDigiCertError(c.ping(), "unavailable");
    expect(e.message).toMatch(/connection refused/);
    await c.close();
  });
});

async function startHtmlServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import("node:http");
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<html>secret-page</html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
