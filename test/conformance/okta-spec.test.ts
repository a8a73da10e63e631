import { spawn, type ChildProcess } from "node:child_process";
import { runOktaSequence } from "./okta-sequence";

// Okta's spec-test sequence against `npm run demo`, started exactly as a new user would start it.

jest.setTimeout(90_000);

describe.each(["certcentral", "one"])("Okta SCIM 2.0 spec test against npm run demo (%s)", (platform) => {
  let child: ChildProcess;
  let output = "";
  let url = "";
  let token = "";

  beforeAll(async () => {
    child = spawn("npm", ["run", "demo", "--silent"], {
      env: { ...process.env, PORT: "0", DIGICERT_PLATFORM: platform, DEMO_DATABASE_URL: "sqlite::memory:" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    for (let i = 0; i < 600 && !(url && token); i++) {
      url = output.match(/https?:\/\/[^\s"'`]+\/scim\/v2/)?.[0] ?? "";
      token = output.match(/Bearer\s+([A-Za-z0-9._~+/=-]{8,})/)?.[1] ?? "";
      if (!(url && token)) await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(() => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
  });

  test("every step passes", async () => {
    expect({ url: !!url, token: !!token, output: url && token ? "" : output }).toEqual({ url: true, token: true, output: "" });
    const results = await runOktaSequence(url, token);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(13);
  });
});
