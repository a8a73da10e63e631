// `npm run demo` honours the settings it can, and prints what `digicert-scim` needs to reach its simulator and store.
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { startDemo, type Demo } from "../../../src/cli/demo";

jest.setTimeout(30_000);

const mappingFile = join(__dirname, "../../../examples/role-mapping.yaml");

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The variables of the banner's `export A='x' \ B='y'` line, as a shell would read them. */
function exported(banner: string): Record<string, string> {
  const block = banner.slice(banner.indexOf("  export "), banner.indexOf("\n  npm run cli"));
  return Object.fromEntries([...block.matchAll(/([A-Z][A-Z0-9_]*)='((?:[^']|'\\'')*)'/g)].map((m) => [m[1], m[2].replace(/'\\''/g, "'")]));
}

describe.each(["certcentral", "one"] as const)("npm run demo (%s)", (platform) => {
  let demo: Demo;
  let banner = "";

  beforeAll(async () => {
    demo = await startDemo(
      { DIGICERT_PLATFORM: platform, PORT: "0", HOST: "127.0.0.1", ROLE_MAPPING_FILE: mappingFile, LOG_LEVEL: "error", DEMO_DATABASE_URL: undefined },
      { write: (s: string) => (banner += s) },
    );
  });
  afterAll(() => demo?.stop());

  test("uses the platform, the mapping file and the port asked for, and prints the simulator's URL and key", () => {
    const port = (demo.running.server.address() as { port: number }).port;
    expect(banner).toContain(`SCIM base URL:  http://127.0.0.1:${port}/scim/v2`);
    expect(banner).toContain(`Role mapping:   ${mappingFile}`);
    expect(banner).toContain(`Simulator:      ${platform === "one" ? demo.sim.oneBaseUrl : demo.sim.certcentralBaseUrl}`);
    expect(banner).toContain(`Simulator key:  ${demo.sim.apiKey}`);
    expect(demo.running.bridge.access.managed).toBe(true);
  });

  test("the printed settings run roles, roles check, check and reconcile against the demo", async () => {
    const env = exported(banner);
    expect(env).toEqual(demo.cliEnv);
    const roles = await cli(["roles"], env);
    expect({ code: roles.code, err: roles.err }).toEqual({ code: 0, err: "" });
    expect(roles.out).toContain(`Role mapping: ${mappingFile}`);
    expect((await cli(["roles", "check", mappingFile, "--json"], env)).code).toBe(0);
    const check = await cli(["check"], env);
    expect(check.out).toMatch(/digicert\s+ok/);
    expect(check.out).toMatch(/role mapping\s+ok/);
    const reconcile = await cli(["reconcile"], env);
    expect(reconcile.code).toBe(0);
    expect(reconcile.out).toContain(`Reconciliation with DigiCert (${platform})`);
  });
});
