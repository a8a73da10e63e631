// `digicert-scim … | head`: the reader goes away and the next write fails with EPIPE; the command must end quietly.
import { spawn } from "node:child_process";
import { join } from "node:path";

jest.setTimeout(60_000);

test("output to a pipe that closed ends the command without a stack trace", async () => {
  const root = join(__dirname, "../../..");
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "src/cli/index.ts", "help"], {
    cwd: root,
    env: { ...process.env, TS_NODE_PROJECT: join(root, "tsconfig.json") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The reader closes before the command writes (as `head` does once it has its lines).
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Error|at /);
  expect(code).toBe(0);
});
