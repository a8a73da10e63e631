import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli";
import { buildInfo, packageRoot, resolveCommit, versionText } from "../../src/version";

// One module says which build this is (src/version.ts): package.json's version, the commit from BUILD_COMMIT, a
// BUILD_COMMIT file, or git in a checkout, else "unknown"; `digicert-scim --version` prints it.

const ROOT = join(__dirname, "..", "..");
const pkg = require("../../package.json") as { version: string; name: string };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const noGit = () => {
  throw new Error("git must not run here");
};

function tempPackage(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "version-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: pkg.name, version: "7.7.7" }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("packageRoot", () => {
  test("finds the repository's package.json from src/ and from a nested dist/src/", () => {
    expect(packageRoot(join(ROOT, "src"))).toBe(ROOT);
    const dir = tempPackage();
    mkdirSync(join(dir, "dist", "src"), { recursive: true });
    expect(packageRoot(join(dir, "dist", "src"))).toBe(dir);
  });

  test("skips a package.json of another package on the way up", () => {
    const dir = tempPackage();
    mkdirSync(join(dir, "nested"));
    writeFileSync(join(dir, "nested", "package.json"), JSON.stringify({ name: "something-else", version: "1.0.0" }));
    expect(packageRoot(join(dir, "nested"))).toBe(dir);
  });
});

describe("resolveCommit", () => {
  test("BUILD_COMMIT in the environment comes first (the image sets it), lower-cased", () => {
    const dir = tempPackage({ BUILD_COMMIT: "fedcba9876543210" });
    expect(resolveCommit({ BUILD_COMMIT: SHA.toUpperCase() }, dir, noGit)).toBe(SHA);
  });

  test("then a BUILD_COMMIT file next to package.json", () => {
    const dir = tempPackage({ BUILD_COMMIT: "fedcba9876543210\n" });
    expect(resolveCommit({}, dir, noGit)).toBe("fedcba9876543210");
  });

  test("then git, only where the package itself is a checkout", () => {
    const plain = tempPackage();
    expect(resolveCommit({}, plain, noGit)).toBe("unknown");
    const checkout = tempPackage();
    mkdirSync(join(checkout, ".git"));
    const asked: string[] = [];
    expect(resolveCommit({}, checkout, (root) => (asked.push(root), `${SHA}\n`.trim()))).toBe(SHA);
    expect(asked).toEqual([checkout]);
  });

  test("values that are not a commit id are ignored; nothing found is unknown", () => {
    const dir = tempPackage({ BUILD_COMMIT: "not a commit" });
    mkdirSync(join(dir, ".git"));
    expect(resolveCommit({ BUILD_COMMIT: "" }, dir, () => "fatal: not a git repository")).toBe("unknown");
    expect(resolveCommit({ BUILD_COMMIT: "$(git rev-parse HEAD)" }, null, noGit)).toBe("unknown");
  });
});

describe("buildInfo", () => {
  test("package.json's version, a commit, this Node.js; the same object on every call", () => {
    const info = buildInfo();
    expect(info).toEqual({ version: pkg.version, commit: expect.stringMatching(/^([0-9a-f]{7,64}|unknown)$/), node: process.versions.node });
    expect(buildInfo()).toBe(info);
  });

  test("versionText shortens the commit to 12 characters", () => {
    expect(versionText({ version: "1.2.3", commit: SHA, node: "22.0.0" })).toBe("1.2.3 (commit 0123456789ab)");
    expect(versionText({ version: "1.2.3", commit: "unknown", node: "22.0.0" })).toBe("1.2.3 (commit unknown)");
  });
});

describe("digicert-scim --version", () => {
  test.each([["--version"], ["-V"]])("%s prints the version and the commit, exits 0, needs no configuration", async (flag) => {
    let out = "";
    let err = "";
    const code = await runCli([flag], { env: {}, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    expect(code).toBe(0);
    expect(out).toBe(`${versionText()}\n`);
    expect(out.startsWith(`${pkg.version} (commit `)).toBe(true);
    expect(err).toBe("");
  });
});
