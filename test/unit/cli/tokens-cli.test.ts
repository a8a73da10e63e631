// `digicert-scim tokens create|list|revoke`, driven in-process against a SQLite store, and the tokens it makes
// accepted by a bridge on the same store.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import { openStore } from "../../../src/store";
import type { Store } from "../../../src/provisioning/ports";

const API_KEY = "tokens-cli-test-api-key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "cli-tokens-"));
let counter = 0;
const freshDb = () => join(dir, `tokens-${++counter}.db`);
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

function envFor(dbFile: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { DIGICERT_API_KEY: API_KEY, DIGICERT_PLATFORM: "certcentral", DATABASE_URL: `sqlite:${dbFile}`, ...extra };
}

const printed: string[] = [];
async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  expect(out + err).not.toContain(API_KEY);
  printed.push(out + err);
  return { code, out, err };
}

async function withStore<T>(dbFile: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(`sqlite:${dbFile}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe("digicert-scim tokens", () => {
  test("create prints the token once (32 random bytes, base64url) and stores only its SHA-256", async () => {
    const db = freshDb();
    const r = await run(["tokens", "create", "--name", "okta"], envFor(db));
    expect(r.code).toBe(0);
    const token = r.out.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(r.err).toContain('Created token "okta" (scope scim, never expires)');
    expect(r.err).toContain("token:okta");
    const found = await withStore(db, (s) => s.tokens.findByDigest(hex(token)));
    expect(found).toMatchObject({ name: "okta", scope: "scim", expires: null, revoked: null, lastUsed: null, sha256: hex(token) });
    // The token itself is nowhere in the database file.
    const raw = require("node:fs").readFileSync(db);
    expect(raw.includes(Buffer.from(token))).toBe(false);
  });

  test("--expires takes a duration or an ISO date; --scope admin; --json", async () => {
    const db = freshDb();
    const before = Date.now();
    const a = await run(["tokens", "create", "--name", "rot-1", "--expires", "90d"], envFor(db));
    expect(a.code).toBe(0);
    const b = await run(["tokens", "create", "--name", "ops", "--scope", "admin", "--expires", "2099-01-01", "--json"], envFor(db));
    expect(b.code).toBe(0);
    const created = JSON.parse(b.out);
    expect(created).toMatchObject({ name: "ops", scope: "admin", status: "active", expires: "2099-01-01T00:00:00.000Z", revoked: null });
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tokens = await withStore(db, (s) => s.tokens.list());
    const rot = tokens.find((t) => t.name === "rot-1")!;
    expect(Date.parse(rot.expires!) - before).toBeGreaterThanOrEqual(90 * 86_400_000 - 1000);
    expect(Date.parse(rot.expires!) - before).toBeLessThan(90 * 86_400_000 + 60_000);
  });

  test("list shows name, scope, status, dates and last use, never a token or digest; --json", async () => {
    const db = freshDb();
    const empty = await run(["tokens", "list"], envFor(db));
    // No database yet: list does not create one.
    expect(empty.code).toBe(1);
    expect(empty.err).toContain("No database at");
    const one = await run(["tokens", "create", "--name", "okta"], envFor(db));
    const two = await run(["tokens", "create", "--name", "okta-next"], envFor(db));
    await run(["tokens", "revoke", "okta"], envFor(db));
    const r = await run(["tokens", "list"], envFor(db));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SCOPE\s+STATUS\s+CREATED\s+EXPIRES\s+REVOKED\s+LAST USED$/);
    expect(lines[1]).toMatch(/^okta\s+scim\s+revoked\s+\S+Z\s+never\s+\S+Z\s+never$/);
    expect(lines[2]).toMatch(/^okta-next\s+scim\s+active\s+\S+Z\s+never\s+-\s+never$/);
    const json = await run(["tokens", "list", "--json"], envFor(db));
    const rows = JSON.parse(json.out) as Record<string, unknown>[];
    expect(rows.map((t) => [t.name, t.status])).toEqual([
      ["okta", "revoked"],
      ["okta-next", "active"],
    ]);
    expect(Object.keys(rows[0]).sort()).toEqual(["created", "expires", "lastUsed", "name", "revoked", "scope", "status"]);
    for (const out of [r.out, json.out]) {
      for (const t of [one.out.trim(), two.out.trim()]) {
        expect(out).not.toContain(t);
        expect(out).not.toContain(hex(t));
      }
    }
  });

  test("revoke: 0 when revoked (or already), 1 for an unknown name; a revoked name stays taken", async () => {
    const db = freshDb();
    await run(["tokens", "create", "--name", "okta"], envFor(db));
    const r = await run(["tokens", "revoke", "okta"], envFor(db));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Revoked token "okta"');
    const again = await run(["tokens", "revoke", "okta"], envFor(db));
    expect(again.code).toBe(0);
    expect(again.out).toContain("already revoked");
    const unknown = await run(["tokens", "revoke", "nobody"], envFor(db));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no token named "nobody"');
    const reuse = await run(["tokens", "create", "--name", "okta"], envFor(db));
    expect(reuse.code).toBe(1);
    expect(reuse.err).toContain('a token named "okta" exists already');
    expect(reuse.out).toBe("");
  });

  test("usage errors exit 2: bad name, bad --expires, past --expires, unknown scope, missing name, no subcommand", async () => {
    const db = freshDb();
    for (const argv of [
      ["tokens", "create", "--name", "bad name"],
      ["tokens", "create", "--name", "x".repeat(65)],
      ["tokens", "create", "--name", "ok", "--expires", "whenever"],
      ["tokens", "create", "--name", "ok", "--expires", "2001-01-01"],
      ["tokens", "create", "--name", "ok", "--scope", "root"],
      ["tokens", "create"],
      ["tokens", "revoke"],
      ["tokens"],
    ]) {
      const r = await run(argv, envFor(db));
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.out).toBe("");
    }
    // Nothing was created by any of them.
    const list = await run(["tokens", "list", "--json"], envFor(db));
    expect(list.code).toBe(1);
  });

  test("needs the store's settings only, not DIGICERT_API_KEY; a configuration problem exits 1", async () => {
    const storeOnly = freshDb();
    const made = await run(["tokens", "create", "--name", "okta"], { DATABASE_URL: `sqlite:${storeOnly}` });
    expect(made.code).toBe(0);
    expect((await run(["outbox", "status"], { DATABASE_URL: `sqlite:${storeOnly}` })).code).toBe(0);
    expect((await run(["migrate"], { DATABASE_URL: `sqlite:${storeOnly}` })).code).toBe(0);
    const r = await run(["tokens", "create", "--name", "okta"], { DATABASE_URL: `sqlite:${freshDb()}`, LOG_LEVEL: "loud" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("LOG_LEVEL");
    const db = await run(["tokens", "list"], envFor(freshDb(), { DATABASE_URL: "mysql://nope" }));
    expect(db.code).toBe(1);
  });

  test("help lists the subcommands", async () => {
    const r = await run(["tokens", "--help"], envFor(freshDb()));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/create[\s\S]*list[\s\S]*revoke/);
    const root = await run(["--help"], envFor(freshDb()));
    expect(root.out).toContain("tokens create --name NAME");
  });
});
