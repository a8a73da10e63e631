// `digicert-scim outbox`, `outbox list` and `outbox retry`, driven in-process against a seeded SQLite store.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli";
import * as storeModule from "../../../src/store";
import { openStore } from "../../../src/store";
import type { OutboxJob } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";

const API_KEY = "outbox-cli-test-api-key-0123456789";
const TOKEN = "outbox-cli-token-abcdef";
const OWNER = "test-worker";
const dir = mkdtempSync(join(tmpdir(), "cli-outbox-"));
let counter = 0;

/** A fresh database file path for one test (not created until something opens it). */
function freshDb(): string {
  return join(dir, `outbox-${++counter}.db`);
}

function envFor(dbFile: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    SCIM_BEARER_TOKENS: TOKEN,
    DIGICERT_API_KEY: API_KEY,
    DIGICERT_PLATFORM: "certcentral",
    DATABASE_URL: `sqlite:${dbFile}`,
    ...extra,
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  // Secrets must never reach the terminal, whatever happened.
  expect(out + err).not.toContain(API_KEY);
  expect(out + err).not.toContain(TOKEN);
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

interface Seeded {
  failedAlice: number;
  failedBob: number;
  running: number;
  done: number;
  pending: number;
}

/**
 * Five jobs, one per user: alice's create and bob's update failed, carol's deactivate is running, a delete is done,
 * and a bulk roles job (no userName) is pending. Ids ascend in that order, so the newest is the pending one.
 */
async function seed(dbFile: string): Promise<Seeded> {
  return withStore(dbFile, async (store) => {
    const [failedAlice, failedBob, running, done] = await store.outbox.enqueue([
      { userId: "u-alice", kind: "create", payload: { userName: "alice@example.com" } },
      { userId: "u-bob", kind: "update", payload: { userName: "bob@example.com", profileChanged: true } },
      { userId: "u-carol", kind: "deactivate", payload: { userName: "carol@example.com" } },
      { userId: "u-dave", kind: "delete", payload: { userName: "dave@example.com", digicertId: "123" } },
    ]);
    const claimed = await store.outbox.claim(OWNER, 10, 60_000);
    expect(claimed.map((j) => j.id)).toEqual([failedAlice, failedBob, running, done]);
    expect(await store.outbox.fail(failedAlice, OWNER, { cause: { source: "digicert", kind: "validation" }, message: "email is not valid" })).toBe(true);
    expect(
      await store.outbox.fail(failedBob, OWNER, { cause: { source: "digicert", kind: "unavailable" }, message: `gave up\nkey ${API_KEY} refused` }),
    ).toBe(true);
    expect(await store.outbox.complete(done, OWNER)).toBe(true);
    const [pending] = await store.outbox.enqueue([{ userId: "u-erin", kind: "roles", payload: {} }]);
    return { failedAlice, failedBob, running, done, pending };
  });
}

const jobsById = async (dbFile: string, ids: number[]) =>
  new Map((await withStore(dbFile, (s) => s.outbox.get(ids))).map((j): [number, OutboxJob] => [j.id, j]));

describe("digicert-scim outbox: usage", () => {
  test("help lists the outbox commands", async () => {
    const r = await run(["help"], {});
    expect(r.code).toBe(0);
    expect(r.out).toContain("outbox [status]");
    expect(r.out).toContain("outbox list [--status S[,S...]] [--user USER_ID] [--limit N] [--json]");
    expect(r.out).toContain("outbox retry --all | outbox retry JOB_ID...");
    expect(r.out).toContain("DATABASE_URL");
  });

  test.each([
    [["outbox", "retry"], "needs --all or the ids"],
    [["outbox", "retry", "abc"], "job ids are positive whole numbers; got abc"],
    [["outbox", "retry", "3", "x7"], "got x7"],
    [["outbox", "retry", "0"], "got 0"],
    [["outbox", "retry", "-1"], "unknown option: -1"],
    [["outbox", "retry", "1.5"], "got 1.5"],
    [["outbox", "retry", "--all", "3"], "either --all or job ids"],
    [["outbox", "retry", "--all=yes"], "--all takes no value"],
    [["outbox", "list", "--status", "broken"], "--status must be one or more of pending, running, done, failed"],
    [["outbox", "list", "--status", "failed,nope"], "got failed,nope"],
    [["outbox", "list", "--status"], "--status needs a value"],
    [["outbox", "list", "--limit", "0"], "--limit must be a whole number of at least 1; got 0"],
    [["outbox", "list", "--limit", "ten"], "got ten"],
    [["outbox", "list", "--user", ""], "--user needs a user id"],
    [["outbox", "list", "--verbose"], "unknown option: --verbose"],
    [["outbox", "list", "failed"], "outbox list takes no argument: failed"],
    [["outbox", "status", "now"], "outbox status takes no argument: now"],
    [["outbox", "purge"], "unknown outbox command: purge"],
  ])("%j is a usage error (exit 2) and does not touch the database", async (argv, message) => {
    const db = freshDb();
    const r = await run(argv, envFor(db));
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(message);
    expect(r.err).toContain("Usage: digicert-scim");
    expect(existsSync(db)).toBe(false);
  });
});

describe("digicert-scim outbox: configuration and database problems", () => {
  test("an invalid configuration exits 1 with the ConfigError", async () => {
    const r = await run(["outbox"], { DIGICERT_API_KEY: API_KEY, SCIM_BEARER_TOKENS: "sha256:not-hex", DATABASE_URL: `sqlite:${freshDb()}` });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("Invalid configuration");
    expect(r.err).toContain("SCIM_BEARER_TOKENS");
  });

  test("a SQLite file that does not exist is reported and not created", async () => {
    const db = freshDb();
    const r = await run(["outbox", "list"], envFor(db));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`No database at sqlite:${db}`);
    expect(existsSync(db)).toBe(false);
  });

  test("an unreachable PostgreSQL server exits 1 without echoing its password", async () => {
    const r = await run(["outbox"], envFor("unused", { DATABASE_URL: "postgres://scim:pg-s3cret-pw@127.0.0.1:1/scim" }));
    expect(r.code).toBe(1);
    expect(r.err).toContain("Cannot open the database at postgres://127.0.0.1:1/scim");
    expect(r.out + r.err).not.toContain("pg-s3cret-pw");
  });
});

describe("digicert-scim outbox status", () => {
  test("counts pending, running and failed jobs and shows the oldest unfinished one", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const oldest = (await jobsById(db, [ids.running])).get(ids.running)!.created;
    for (const argv of [["outbox"], ["outbox", "status"]]) {
      const r = await run(argv, envFor(db));
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^ {2}pending {2}1$/m);
      expect(r.out).toMatch(/^ {2}running {2}1$/m);
      expect(r.out).toMatch(/^ {2}failed {3}2$/m);
      expect(r.out).toMatch(new RegExp(`oldest unfinished job: \\d+s old \\(created ${oldest.replace(/\./g, "\\.")}\\)`));
      expect(r.out).toContain("2 failed jobs wait for an admin");
      expect(r.out).toContain("digicert-scim outbox retry --all");
    }
  });

  test("--json prints the stats as an object", async () => {
    const db = freshDb();
    await seed(db);
    const r = await run(["outbox", "--json"], envFor(db));
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out);
    expect(stats).toMatchObject({ pending: 1, running: 1, failed: 2 });
    expect(typeof stats.oldestUnfinished).toBe("string");
    expect(stats.oldestUnfinishedAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  test("an empty outbox", async () => {
    const db = freshDb();
    await withStore(db, async () => undefined);
    const r = await run(["outbox"], envFor(db));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}pending {2}0$/m);
    expect(r.out).toMatch(/^ {2}failed {3}0$/m);
    expect(r.out).toContain("oldest unfinished job: none");
    expect(r.out).not.toContain("wait for an admin");
  });
});

describe("digicert-scim outbox list", () => {
  test("a table of jobs, newest first, with user, userName, error and timestamps", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const r = await run(["outbox", "list"], envFor(db));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+KIND\s+STATUS\s+ATTEMPTS\s+USER ID\s+USERNAME\s+CREATED\s+UPDATED\s+ERROR$/);
    expect(lines.slice(1).map((l) => Number(l.split(/\s+/)[0]))).toEqual([ids.pending, ids.done, ids.running, ids.failedBob, ids.failedAlice]);
    const row = (id: number) => lines.find((l) => l.startsWith(`${id} `))!;
    const ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    expect(row(ids.failedAlice)).toMatch(
      new RegExp(`^${ids.failedAlice}\\s+create\\s+failed\\s+1\\s+u-alice\\s+alice@example\\.com\\s+${ts}\\s+${ts}\\s+digicert:validation: email is not valid$`),
    );
    // The message's newline is flattened and the API key it quotes is masked.
    expect(row(ids.failedBob)).toContain("digicert:unavailable: gave up key [REDACTED] refused");
    expect(row(ids.running)).toMatch(/\sdeactivate\s+running\s+1\s+u-carol\s+carol@example\.com\s.*\s-$/);
    expect(row(ids.done)).toMatch(/\sdelete\s+done\s+1\s+u-dave\s/);
    // A bulk roles job carries no userName.
    expect(row(ids.pending)).toMatch(new RegExp(`^${ids.pending}\\s+roles\\s+pending\\s+0\\s+u-erin\\s+-\\s+${ts}`));
    expect(r.out).not.toContain("--limit N shows more");
  });

  test("--status, --user and --limit filter", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const failed = await run(["outbox", "list", "--status", "failed"], envFor(db));
    expect(failed.code).toBe(0);
    expect(failed.out.trimEnd().split("\n").slice(1).map((l) => Number(l.split(/\s+/)[0]))).toEqual([ids.failedBob, ids.failedAlice]);

    const two = await run(["outbox", "list", "--status=pending,running", "--json"], envFor(db));
    expect(JSON.parse(two.out).map((j: { id: number }) => j.id)).toEqual([ids.pending, ids.running]);

    const bob = await run(["outbox", "list", "--user", "u-bob", "--json"], envFor(db));
    expect(JSON.parse(bob.out).map((j: { id: number }) => j.id)).toEqual([ids.failedBob]);

    const limited = await run(["outbox", "list", "--limit", "2"], envFor(db));
    expect(limited.out.trimEnd().split("\n").slice(1, 3).map((l) => Number(l.split(/\s+/)[0]))).toEqual([ids.pending, ids.done]);
    expect(limited.out).toContain("(the newest 2; --limit N shows more)");

    const none = await run(["outbox", "list", "--user", "u-nobody"], envFor(db));
    expect(none.code).toBe(0);
    expect(none.out).toBe("No outbox jobs match.\n");
    const noneJson = await run(["outbox", "list", "--user", "u-nobody", "--json"], envFor(db));
    expect(JSON.parse(noneJson.out)).toEqual([]);
  });

  test("--json prints an array of jobs", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const r = await run(["outbox", "list", "--json"], envFor(db));
    expect(r.code).toBe(0);
    const jobs = JSON.parse(r.out);
    expect(jobs).toHaveLength(5);
    expect(jobs.map((j: { id: number }) => j.id)).toEqual([ids.pending, ids.done, ids.running, ids.failedBob, ids.failedAlice]);
    expect(jobs[4]).toEqual({
      id: ids.failedAlice,
      kind: "create",
      status: "failed",
      attempts: 1,
      userId: "u-alice",
      userName: "alice@example.com",
      error: { kind: "digicert:validation", message: "email is not valid" },
      created: expect.any(String),
      updated: expect.any(String),
      finished: expect.any(String),
      runAfter: expect.any(String),
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(jobs[0]).toMatchObject({ kind: "roles", status: "pending", userName: null, error: null, attempts: 0 });
    expect(jobs[3].error.message).toBe("gave up\nkey [REDACTED] refused");
  });

  test("the default limit is 50", async () => {
    const db = freshDb();
    await withStore(db, (s) =>
      s.outbox.enqueue(Array.from({ length: 55 }, (_, i) => ({ userId: `u-${i}`, kind: "create" as const, payload: { userName: `user${i}` } }))),
    );
    const r = await run(["outbox", "list", "--json"], envFor(db));
    expect(JSON.parse(r.out)).toHaveLength(50);
    const all = await run(["outbox", "list", "--json", "--limit", "100"], envFor(db));
    expect(JSON.parse(all.out)).toHaveLength(55);
  });
});

describe("digicert-scim outbox retry", () => {
  test("given ids: those failed jobs go back to pending with a fresh attempt count, others stay", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const r = await run(["outbox", "retry", String(ids.failedAlice)], envFor(db));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Reset 1 failed job to pending.");
    expect(r.out).toContain("The bridge's worker picks it up on its next poll.");

    const jobs = await jobsById(db, Object.values(ids));
    expect(jobs.get(ids.failedAlice)).toMatchObject({ status: "pending", attempts: 0, finished: null });
    expect(jobs.get(ids.failedBob)).toMatchObject({ status: "failed", attempts: 1 });
    expect(jobs.get(ids.running)!.status).toBe("running");
    expect(jobs.get(ids.done)!.status).toBe("done");
    const user = await withStore(db, (s) => s.outbox.stats());
    expect(user).toMatchObject({ pending: 2, running: 1, failed: 1 });
  });

  test("--all resets every failed job; a second --all finds none", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const r = await run(["outbox", "retry", "--all"], envFor(db));
    expect(r.code).toBe(0);
    expect(r.out).toContain("Reset 2 failed jobs to pending.");
    const jobs = await jobsById(db, [ids.failedAlice, ids.failedBob]);
    for (const j of jobs.values()) expect(j).toMatchObject({ status: "pending", attempts: 0 });
    // A worker can claim them again at once.
    const claimed = await withStore(db, (s) => s.outbox.claim("another-worker", 10, 60_000));
    expect(claimed.map((j) => j.id)).toEqual(expect.arrayContaining([ids.failedAlice, ids.failedBob]));

    const again = await run(["outbox", "retry", "--all"], envFor(db));
    expect(again.code).toBe(0);
    expect(again.out).toBe("No failed jobs to retry.\n");
  });

  test("ids that are not failed are left alone with a note; unknown ids exit 1", async () => {
    const db = freshDb();
    const ids = await seed(db);
    const r = await run(["outbox", "retry", String(ids.failedBob), String(ids.done), "999"], envFor(db));
    expect(r.code).toBe(1);
    expect(r.out).toContain("Reset 1 failed job to pending.");
    expect(r.err).toContain(`Job ${ids.done} is done, not failed: left as it is`);
    expect(r.err).toContain("Job 999: no such job");
    const jobs = await jobsById(db, [ids.failedBob, ids.done, ids.failedAlice]);
    expect(jobs.get(ids.failedBob)).toMatchObject({ status: "pending", attempts: 0 });
    expect(jobs.get(ids.done)!.status).toBe("done");
    expect(jobs.get(ids.failedAlice)!.status).toBe("failed");

    const notFailed = await run(["outbox", "retry", String(ids.running)], envFor(db));
    expect(notFailed.code).toBe(0);
    expect(notFailed.out).toContain("Reset 0 failed jobs to pending.");
    expect(notFailed.err).toContain(`Job ${ids.running} is running, not failed`);
  });
});

describe("digicert-scim outbox closes the store", () => {
  afterEach(() => jest.restoreAllMocks());

  test.each([[["outbox"]], [["outbox", "list"]], [["outbox", "retry", "--all"]], [["outbox", "retry", "1"]]])(
    "%j closes the store it opened",
    async (argv) => {
      const db = freshDb();
      await seed(db);
      const closes: jest.SpyInstance[] = [];
      const real = storeModule.openStore;
      jest.spyOn(storeModule, "openStore").mockImplementation(async (...args) => {
        const store = await real(...args);
        closes.push(jest.spyOn(store, "close"));
        return store;
      });
      const r = await run(argv, envFor(db));
      expect(r.code).toBe(0);
      expect(closes).toHaveLength(1);
      expect(closes[0]).toHaveBeenCalledTimes(1);
    },
  );

  test("also when a query fails", async () => {
    const db = freshDb();
    await seed(db);
    let close: jest.SpyInstance | undefined;
    const real = storeModule.openStore;
    jest.spyOn(storeModule, "openStore").mockImplementation(async (...args) => {
      const store = await real(...args);
      jest.spyOn(store.outbox, "stats").mockRejectedValue(new Error(`database is locked (${API_KEY})`));
      close = jest.spyOn(store, "close");
      return store;
    });
    const r = await run(["outbox"], envFor(db));
    expect(r.code).toBe(1);
    expect(r.err).toContain("database is locked ([REDACTED])");
    expect(close).toHaveBeenCalledTimes(1);
  });
});
