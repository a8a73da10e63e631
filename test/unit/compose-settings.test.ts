import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { envSchema } from "../../src/config/env";

// docker-compose.yml passes every setting: each variable .env.example and README.md's configuration table document
// reaches both bridge containers from .env (env_file), and `environment:` hard-codes only the few this file owns
// (its listener, its PostgreSQL and Redis, the replica count). deploy/compose/nginx.conf keeps /metrics off the
// public port. Compose's own precedence is modelled here: `environment:` (after ${VAR} interpolation from .env)
// wins over env_file. `docker compose config` is not needed (and not installed in CI).

const ROOT = join(__dirname, "..", "..");
type Obj = Record<string, any>;

/** What docker-compose.yml decides for itself, whatever .env says; each named in its comments and .env.example's. */
const COMPOSE_OWNED = ["PORT", "HOST", "DATABASE_URL", "REDIS_URL", "BRIDGE_REPLICAS"].sort();

const composeText = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
const compose: Obj = parse(composeText, { merge: true });
const services: Record<string, Obj> = compose.services;
const bridgeNames = Object.keys(services).filter((n) => String(services[n].image ?? "").startsWith("digicert-scim-bridge"));

const envExample = readFileSync(join(ROOT, ".env.example"), "utf8");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** Variables .env.example assigns (NAME=…). */
const exampleVars = envExample
  .split(/\r?\n/)
  .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
  .filter((k): k is string => !!k);

/** Variables of README.md's configuration table (the first column of the rows under "## Configuration"). */
function readmeTableVars(): string[] {
  const section = readme.slice(readme.indexOf("\n## Configuration"), readme.indexOf("\n## ", readme.indexOf("\n## Configuration") + 5));
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
}
const documented = [...new Set([...exampleVars, ...readmeTableVars()])].sort();

/** A .env file as compose reads it: NAME=value lines, # comments, optional single or double quotes. */
function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    let value = m[2].trim();
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    out[m[1]] = value;
  }
  return out;
}

/** Compose's interpolation of one `environment:` value from the project's .env: $$, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name, op, arg, bare) => {
    if (all === "$$") return "$";
    if (bare) return vars[bare] ?? "";
    const v = vars[name];
    const unset = op?.startsWith(":") ? !v : v === undefined;
    if (!op) return v ?? "";
    if (op.endsWith("-")) return unset ? arg : v;
    if (unset) throw new Error(`compose would stop: ${name}: ${arg}`);
    return v;
  });
}

/** The names of the files a service's env_file lists (short or long syntax). */
function envFiles(service: Obj): string[] {
  const list = service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file];
  return list.map((e: string | { path: string }) => (typeof e === "string" ? e : e.path).replace(/^\.\//, ""));
}

/** The environment a bridge container gets when the project's .env is `dotenv`. */
function containerEnv(service: Obj, dotenv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of envFiles(service)) if (file === ".env") Object.assign(env, dotenv);
  const environment: Record<string, unknown> = Array.isArray(service.environment)
    ? Object.fromEntries((service.environment as string[]).map((e) => [e.split("=")[0], e.slice(e.indexOf("=") + 1)]))
    : service.environment ?? {};
  for (const [k, v] of Object.entries(environment)) env[k] = interpolate(String(v ?? ""), dotenv);
  return env;
}

describe("docker-compose.yml passes every documented setting to the bridges", () => {
  it("finds the documented variables (.env.example and README's table agree, and cover the bridge's schema)", () => {
    expect(bridgeNames.length).toBeGreaterThanOrEqual(2);
    expect(documented).toEqual(expect.arrayContaining(["ADMIN_TOKENS", "METRICS_TOKEN", "RECONCILE_INTERVAL", "ROLE_MAPPING_FILE", "SYNC_WAIT_MS"]));
    expect(documented).toEqual(expect.arrayContaining(Object.keys(envSchema.shape)));
    expect(readmeTableVars().length).toBeGreaterThanOrEqual(40);
  });

  it.each(bridgeNames)("%s reads the project's .env whole (env_file)", (name) => {
    expect(envFiles(services[name])).toContain(".env");
  });

  it.each(bridgeNames)("%s: every documented variable written in .env reaches the container as written", (name) => {
    // A .env giving every documented variable a value of its own.
    const dotenv = Object.fromEntries(documented.map((k) => [k, `from-dotenv-${k.toLowerCase()}`]));
    const env = containerEnv(services[name], dotenv);
    const lost = documented.filter((k) => !COMPOSE_OWNED.includes(k) && env[k] !== dotenv[k]);
    expect(lost).toEqual([]);
  });

  it.each(bridgeNames)("%s hard-codes only the variables this file owns, and those to this file's services", (name) => {
    const dotenv = Object.fromEntries(documented.map((k) => [k, `from-dotenv-${k.toLowerCase()}`]));
    const env = containerEnv(services[name], dotenv);
    const overridden = documented.filter((k) => env[k] !== dotenv[k]).sort();
    expect(overridden).toEqual(COMPOSE_OWNED);
    expect(env.PORT).toBe("8080");
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/redis:6379(\/|$)/);
    expect(Number(env.BRIDGE_REPLICAS)).toBe(bridgeNames.length);
  });

  it.each(bridgeNames)("%s with .env.example as .env: its values, and TRUST_PROXY 1 for the one nginx in front", (name) => {
    const dotenv = parseDotenv(envExample);
    const env = containerEnv(services[name], dotenv);
    for (const k of exampleVars.filter((v) => !COMPOSE_OWNED.includes(v) && v !== "TRUST_PROXY")) expect([k, env[k]]).toEqual([k, dotenv[k]]);
    expect(env.TRUST_PROXY).toBe(dotenv.TRUST_PROXY || "1");
    expect(env.SCIM_BEARER_TOKENS).toBe("<long-random-token>");
  });

  it("names what it owns in its comments and in .env.example, and keeps .env out of git and the image", () => {
    // The paragraph of .env.example's header about docker compose.
    const lines = envExample.split(/\r?\n/);
    const from = lines.findIndex((l) => /^# docker compose/.test(l));
    expect(from).toBeGreaterThanOrEqual(0);
    const header = lines.slice(from, lines.findIndex((l, i) => i > from && !l.startsWith("#"))).join("\n");
    expect(header).toMatch(/env_file/);
    for (const k of COMPOSE_OWNED) {
      expect([k, header.includes(k)]).toEqual([k, true]);
      expect([k, composeText.split("services:")[0].includes(k)]).toEqual([k, true]);
    }
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8").split(/\r?\n/)).toContain(".env");
    expect(readFileSync(join(ROOT, ".dockerignore"), "utf8").split(/\r?\n/)).toContain(".env");
  });
});

describe("the compose model itself (so the checks above can fail)", () => {
  const base = { env_file: [".env"], environment: { PORT: "8080", DATABASE_URL: "postgres://scim:scim@postgres:5432/scim" } };

  it("a hard-coded documented variable in environment: is caught", () => {
    const env = containerEnv({ ...base, environment: { ...base.environment, METRICS_TOKEN: "fixed" } }, { METRICS_TOKEN: "mine" });
    expect(env.METRICS_TOKEN).toBe("fixed");
  });

  it("a service without env_file loses what .env says", () => {
    expect(containerEnv({ environment: {} }, { ADMIN_TOKENS: "ops=x" }).ADMIN_TOKENS).toBeUndefined();
    expect(containerEnv({ env_file: [{ path: "./.env", required: true }] }, { ADMIN_TOKENS: "ops=x" }).ADMIN_TOKENS).toBe("ops=x");
  });

  it("interpolates like compose", () => {
    expect(interpolate("${A:-d}", {})).toBe("d");
    expect(interpolate("${A:-d}", { A: "" })).toBe("d");
    expect(interpolate("${A-d}", { A: "" })).toBe("");
    expect(interpolate("${A}", { A: "x" })).toBe("x");
    expect(interpolate("a$$b", {})).toBe("a$b");
    expect(() => interpolate("${A:?set A}", {})).toThrow(/set A/);
  });

  it("reads .env like compose", () => {
    expect(parseDotenv("# c\nA=1\nB='x$y'\nC=\"q\"\nD=v # note\nE=\n")).toEqual({ A: "1", B: "x$y", C: "q", D: "v", E: "" });
  });
});

// ---- nginx: which location answers a request, as nginx picks it (exact, then longest prefix unless ^~, then the
// first matching regex in order, then that prefix). ----

interface Location {
  modifier: "" | "=" | "^~" | "~" | "~*";
  pattern: string;
  body: string;
}

function locations(conf: string): Location[] {
  const text = conf.replace(/#.*$/gm, "");
  const out: Location[] = [];
  for (const m of text.matchAll(/location\s+(=|\^~|~\*|~)?\s*(\S+)\s*\{([^}]*)\}/g)) {
    out.push({ modifier: (m[1] ?? "") as Location["modifier"], pattern: m[2], body: m[3] });
  }
  return out;
}

/** nginx normalises the URI before matching: %-decoding, merged slashes, . and .. segments. */
function normalise(uri: string): string {
  const decoded = decodeURIComponent(uri.split("?")[0]).replace(/\/{2,}/g, "/");
  const parts: string[] = [];
  for (const seg of decoded.split("/").slice(1)) {
    if (seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}

function pick(locs: Location[], rawUri: string): Location | undefined {
  const uri = normalise(rawUri);
  const exact = locs.find((l) => l.modifier === "=" && l.pattern === uri);
  if (exact) return exact;
  const prefixes = locs.filter((l) => (l.modifier === "" || l.modifier === "^~") && uri.startsWith(l.pattern));
  const longest = prefixes.sort((a, b) => b.pattern.length - a.pattern.length)[0];
  if (longest?.modifier === "^~") return longest;
  const regex = locs.find((l) => (l.modifier === "~" || l.modifier === "~*") && new RegExp(l.pattern, l.modifier === "~*" ? "i" : "").test(uri));
  return regex ?? longest;
}

const proxies = (l: Location | undefined) => !!l && /\bproxy_pass\b/.test(l.body);
const answers404 = (l: Location | undefined) => !!l && /^\s*return\s+404\s*;\s*$/.test(l.body);

describe("deploy/compose/nginx.conf keeps /metrics off the public port", () => {
  const conf = readFileSync(join(ROOT, "deploy", "compose", "nginx.conf"), "utf8");
  const locs = locations(conf);

  it.each(["/metrics", "/metrics/", "/METRICS", "/Metrics?x=1", "//metrics", "/%6Detrics", "/scim/v2/../../metrics", "/./metrics", "/metrics/anything"])(
    "%s is answered 404 by nginx, never proxied",
    (uri) => {
      const l = pick(locs, uri);
      expect(proxies(l)).toBe(false);
      expect(answers404(l)).toBe(true);
    },
  );

  it.each(["/scim/v2/Users", "/scim/v2/Users?filter=userName%20eq%20%22metrics%22", "/healthz", "/readyz", "/admin", "/oauth/token", "/metricsx", "/scim/v2/metrics"])(
    "%s is proxied to the bridges",
    (uri) => {
      expect(proxies(pick(locs, uri))).toBe(true);
    },
  );

  it("the model catches a config that proxies /metrics", () => {
    const open = locations("location / { proxy_pass http://scim_bridges; }");
    expect(proxies(pick(open, "/metrics"))).toBe(true);
    const shadowed = locations("location ^~ /metrics { proxy_pass http://x; } location ~* ^/metrics { return 404; } location / { proxy_pass http://x; }");
    expect(answers404(pick(shadowed, "/metrics"))).toBe(false);
  });
});
