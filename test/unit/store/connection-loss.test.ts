// A lost database connection: which driver errors say so, what the IdP hears, what a job does, and which
// transactions are run again (issue 19).
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { runTransaction, type Database } from "../../../src/store/db";
import { isConnectionLost, unavailableOr } from "../../../src/store/errors";
import { StoreUnavailableError } from "../../../src/provisioning/ports";
import { verdictOf } from "../../../src/provisioning/job-errors";
import { failureOf } from "../../../src/scim/errors";

const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isConnectionLost", () => {
  it.each([
    ["admin_shutdown (pg_terminate_backend)", pgError("57P01", "terminating connection due to administrator command")],
    ["crash_shutdown", pgError("57P02")],
    ["cannot_connect_now (starting up)", pgError("57P03")],
    ["connection_failure", pgError("08006")],
    ["connection_does_not_exist", pgError("08003")],
    ["a reset socket", pgError("ECONNRESET")],
    ["a refused connection", pgError("ECONNREFUSED")],
    ["pg's unexpected end", new Error("Connection terminated unexpectedly")],
    ["pg's dead client", new Error("Client has encountered a connection error and is not queryable")],
  ])("recognises %s", (_what, err) => {
    expect(isConnectionLost(err)).toBe(true);
  });

  it.each([
    ["a unique violation", pgError("23505")],
    ["a syntax error", pgError("42601")],
    ["a serialization failure", pgError("40001")],
    ["a plain bug", new TypeError("x is undefined")],
    ["not an error", "Connection terminated"],
  ])("does not take %s for one", (_what, err) => {
    expect(isConnectionLost(err)).toBe(false);
  });

  it("wraps only what it recognises, keeping the driver's error as the cause", () => {
    const lost = pgError("57P01");
    const mapped = unavailableOr(lost, true) as StoreUnavailableError;
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect(mapped.maybeApplied).toBe(true);
    expect(mapped.cause).toBe(lost);
    const other = pgError("23505");
    expect(unavailableOr(other, true)).toBe(other);
  });
});

describe("a StoreUnavailableError", () => {
  it("is a SCIM 503 with Retry-After, never a 500", () => {
    const f = failureOf(new StoreUnavailableError(true));
    expect(f).toMatchObject({ status: 503, retryAfterSeconds: expect.any(Number) });
    expect(f.internal).toBeUndefined();
    expect(f.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("puts an outbox job back without using up an attempt", () => {
    expect(verdictOf(new StoreUnavailableError(false))).toEqual({ retry: true, countAttempt: false });
  });
});

describe("runTransaction", () => {
  let db: Kysely<Database>;
  beforeEach(() => {
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }) });
  });
  afterEach(() => db.destroy());

  it("runs once more a transaction whose connection died before COMMIT was sent", async () => {
    let runs = 0;
    const result = await runTransaction(db, async () => {
      runs++;
      if (runs === 1) throw new StoreUnavailableError(false);
      return "ok";
    });
    expect(result).toBe("ok");
    expect(runs).toBe(2);
  });

  it("does not run again one that may have committed, nor retry more than once", async () => {
    let runs = 0;
    await expect(
      runTransaction(db, async () => {
        runs++;
        throw new StoreUnavailableError(true);
      }),
    ).rejects.toMatchObject({ maybeApplied: true });
    expect(runs).toBe(1);

    runs = 0;
    await expect(
      runTransaction(db, async () => {
        runs++;
        throw new StoreUnavailableError(false);
      }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(runs).toBe(2);
  });

  it("leaves other failures alone", async () => {
    let runs = 0;
    await expect(
      runTransaction(db, async () => {
        runs++;
        throw new Error("bug");
      }),
    ).rejects.toThrow("bug");
    expect(runs).toBe(1);
  });
});
