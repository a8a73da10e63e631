// Which build this is: the version (package.json's) and the commit it was built from. Read once per process (the
// first call, which the server, the metrics registry, the status page and `digicert-scim --version` all make at
// start), never per request: no git process ever runs while a request waits.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface BuildInfo {
  /** package.json's version, e.g. 0.1.0. */
  version: string;
  /** The full commit hash the build came from, or "unknown". */
  commit: string;
  /** The Node.js version running it, without the v, e.g. 22.14.0. */
  node: string;
}

const PACKAGE_NAME = "digicert-scim-bridge";
const COMMIT = /^[0-9a-f]{7,64}$/i;

/**
 * The directory of the bridge's package.json, found upward from this file: `src/` when run from the sources
 * (ts-node, tests), `dist/src/` when built (the image keeps package.json at /app, next to dist/).
 */
export function packageRoot(from: string = __dirname): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not ours (or unreadable): keep looking upward.
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The commit, first found of: BUILD_COMMIT in the environment (the Dockerfile sets it from its build argument), a
 * BUILD_COMMIT file next to package.json (for builds that write one), `git rev-parse HEAD` when the package is a git
 * checkout; else "unknown". Values that are not a hex commit id are ignored.
 */
export function resolveCommit(env: NodeJS.ProcessEnv, root: string | null, git: (root: string) => string | null = gitHead): string {
  const fromEnv = env.BUILD_COMMIT?.trim();
  if (fromEnv && COMMIT.test(fromEnv)) return fromEnv.toLowerCase();
  if (root) {
    const file = join(root, "BUILD_COMMIT");
    if (existsSync(file)) {
      const fromFile = readFileSync(file, "utf8").trim();
      if (COMMIT.test(fromFile)) return fromFile.toLowerCase();
    }
    // Only the package's own checkout: a build copied into some other repository must not take that one's commit.
    if (existsSync(join(root, ".git"))) {
      const head = git(root);
      if (head && COMMIT.test(head)) return head.toLowerCase();
    }
  }
  return "unknown";
}

function gitHead(root: string): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null; // no git binary, not a repository, or it took too long
  }
}

function readVersion(root: string | null): string {
  if (!root) return "unknown";
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: unknown }).version;
  return typeof version === "string" && version ? version : "unknown";
}

let cached: BuildInfo | null = null;

/** This process's build: computed on the first call, the same object afterwards. */
export function buildInfo(): BuildInfo {
  if (!cached) {
    const root = packageRoot();
    cached = Object.freeze({ version: readVersion(root), commit: resolveCommit(process.env, root), node: process.versions.node });
  }
  return cached;
}

/** "0.1.0 (commit 1a2b3c4d5e6f)" or "0.1.0 (commit unknown)": for people (--version, the status page). */
export function versionText(info: BuildInfo = buildInfo()): string {
  return `${info.version} (commit ${info.commit === "unknown" ? "unknown" : info.commit.slice(0, 12)})`;
}
