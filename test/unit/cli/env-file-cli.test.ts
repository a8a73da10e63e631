// `digicert-scim` run where a .env is: it reads it (the environment still wins), as `npm start` does.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

jest.setTimeout(60_000);

const ROOT = join(__dirname, "../../..");

function cli(cwd: string, args: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _d, ENV_FILE: _e, ...inherited } = process.env;
  return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", join(ROOT, "src/cli/index.ts"), ...args], {
    cwd,
    env: { ...inherited, TS_NODE_PROJECT: join(ROOT, "tsconfig.json"), NODE_PATH: join(ROOT, "node_modules"), ...env },
    encoding: "utf8",
  });
}

test("reads ./.env (the environment wins); an ENV_FILE that cannot be read stops it naming ENV_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "env-cli-"));
  writeFileSync(join(dir, ".env"), "DATABASE_URL='sqlite:./from-dotenv.db'\nLOG_LEVEL='warn'\n");
  const fromDotenv = cli(dir, ["migrate", "--json"]);
  expect({ status: fromDotenv.status, stderr: fromDotenv.stderr }).toEqual({ status: 0, stderr: "" });
  expect(existsSync(join(dir, "from-dotenv.db"))).toBe(true);

  // The environment wins over the file.
  const fromEnv = cli(dir, ["migrate", "--json"], { DATABASE_URL: "sqlite:./from-env.db" });
  expect(fromEnv.status).toBe(0);
  expect(existsSync(join(dir, "from-env.db"))).toBe(true);

  const missing = cli(dir, ["migrate"], { ENV_FILE: "nope.env" });
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/^Invalid configuration:\n {2}- ENV_FILE: cannot read .*nope\.env \(no such file\)\n/);
});
