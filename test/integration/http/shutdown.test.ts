import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator } from "../../../src/simulator";
import type { Simulator } from "../../../src/simulator/types";

// SIGTERM: stop accepting requests, let the in-flight one finish, exit 0.

jest.setTimeout(60_000);

const TOKEN = "shutdown-test-token-0123456789";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("graceful shutdown", () => {
  let sim: Simulator;
  let child: ChildProcess;
  let port: number;
  let output = "";

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, apiKey: "shutdown-api-key-42" });
    port = await freePort();
    child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "src/main.ts"], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        SCIM_BEARER_TOKENS: TOKEN,
        DIGICERT_API_KEY: "shutdown-api-key-42",
        DIGICERT_BASE_URL: sim.certcentralBaseUrl,
        DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "shutdown-")), "scim.db")}`,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`bridge did not start: ${output.slice(-500)}`);
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await sim.close();
  });

  test("an in-flight create completes, new connections are refused, the process exits 0", async () => {
    sim.failNext({ platform: "certcentral", method: "POST", path: /^\/user$/, delayMs: 1500 });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const inFlight = fetch(`http://127.0.0.1:${port}/scim/v2/Users`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json", connection: "close" },
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "late.leaver@example.com",
        name: { givenName: "Late", familyName: "Leaver" },
        emails: [{ value: "late.leaver@example.com", primary: true }],
      }),
    });
    await new Promise((r) => setTimeout(r, 400));
    child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(201);
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(sim.listUsers("certcentral").filter((u: any) => u.username === "late.leaver@example.com")).toHaveLength(1);
    expect(output).toContain("shutting down");
  });
});
