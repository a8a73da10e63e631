// PostgreSQL connections that die under the bridge (an administrator's pg_terminate_backend, a restart, a failover):
// the process survives, the failure becomes a typed StoreUnavailableError, and a transaction knows whether its
// COMMIT could have been applied (store/db.ts retries it once when it could not).
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, Kysely, QueryCompiler, TransactionSettings } from "kysely";
import type { Pool, PoolClient } from "pg";
import type { Logger } from "../log/logger";
import { isConnectionLost, unavailableOr } from "./errors";
import { StoreUnavailableError } from "./types";

/** What the application_name of the bridge's sessions is when DATABASE_URL (or PGAPPNAME) names none. */
export const PG_APPLICATION_NAME = "digicert-scim-bridge";

/**
 * pg emits 'error' on a client whose connection ends; the pool listens only while the client is idle, so a client
 * checked out by a query or a transaction would throw it as an unhandled 'error' event and end the process. Every
 * client gets its own listener for its whole life: the query it was running fails on its own (and is mapped to
 * StoreUnavailableError), and the pool drops the client when it is released.
 */
export function watchPoolConnections(pool: Pool, logger?: Logger): void {
  pool.on("connect", (client: PoolClient) => {
    client.on("error", (err: Error) => logger?.warn("PostgreSQL connection lost", { error: err.message }));
  });
  // The idle client's error reaches the pool too: logged once, by the client's own listener above.
  pool.on("error", () => undefined);
}

interface TrackedConnection extends DatabaseConnection {
  readonly inner: DatabaseConnection;
  /** The connection failed as lost: nothing sent on it from now on reaches the server. */
  lost: boolean;
  /** A transaction is open on it: a statement that fails is rolled back by the server, never applied. */
  inTransaction: boolean;
}

/** Wraps a PostgreSQL dialect so that a lost connection throws StoreUnavailableError, never a bare driver error. */
export class ConnectionLossDialect implements Dialect {
  constructor(private readonly inner: Dialect) {}
  createDriver(): Driver {
    return new ConnectionLossDriver(this.inner.createDriver());
  }
  createQueryCompiler(): QueryCompiler {
    return this.inner.createQueryCompiler();
  }
  createAdapter() {
    return this.inner.createAdapter();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>) {
    return this.inner.createIntrospector(db);
  }
}

class ConnectionLossDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let inner: DatabaseConnection;
    try {
      inner = await this.inner.acquireConnection();
    } catch (err) {
      throw unavailableOr(err, false); // no connection, nothing sent
    }
    const tracked: TrackedConnection = {
      inner,
      lost: false,
      inTransaction: false,
      executeQuery: async <R>(query: CompiledQuery) => {
        // Outside a transaction a statement commits by itself: lost on its way, it may have been applied.
        const autocommit = !tracked.inTransaction;
        try {
          return await this.guard(tracked, () => inner.executeQuery<R>(query), autocommit);
        } catch (err) {
          // A read outside a transaction changes nothing: run it once more on a new connection.
          if (!(err instanceof StoreUnavailableError) || !autocommit || query.query.kind !== "SelectQueryNode") throw err;
          return this.onFreshConnection((fresh) => fresh.executeQuery<R>(query));
        }
      },
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
    return tracked;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as TrackedConnection;
    await this.guard(c, () => this.inner.beginTransaction(c.inner, settings), false);
    c.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as TrackedConnection;
    // Known lost before COMMIT was sent: the server rolled the transaction back, nothing was applied.
    if (c.lost) throw new StoreUnavailableError(false, "the database connection was lost before the commit");
    try {
      // Lost during COMMIT: the server may have committed before the connection went.
      await this.guard(c, () => this.inner.commitTransaction(c.inner), true);
    } finally {
      c.inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as TrackedConnection;
    c.inTransaction = false;
    // The server ended the transaction with the session; a ROLLBACK could only fail, and its failure would hide
    // the error that got the transaction here (Kysely rethrows the rollback's).
    if (c.lost) return;
    try {
      await this.inner.rollbackTransaction(c.inner);
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      c.lost = true;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    const c = connection as TrackedConnection;
    await this.guard(c, () => this.inner.savepoint!(c.inner, name, compile), false);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    const c = connection as TrackedConnection;
    await this.guard(c, () => this.inner.rollbackToSavepoint!(c.inner, name, compile), false);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler["compileQuery"]): Promise<void> {
    const c = connection as TrackedConnection;
    await this.guard(c, () => this.inner.releaseSavepoint!(c.inner, name, compile), false);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as TrackedConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  /** Runs `op` on a connection of its own, released after. */
  private async onFreshConnection<T>(op: (c: DatabaseConnection) => Promise<T>): Promise<T> {
    let fresh: DatabaseConnection;
    try {
      fresh = await this.inner.acquireConnection();
    } catch (err) {
      throw unavailableOr(err, false);
    }
    try {
      // Said "maybe applied" only by a caller that writes; this one reads.
      return await this.guard({ lost: false }, () => op(fresh), false);
    } finally {
      await this.inner.releaseConnection(fresh);
    }
  }

  /** Runs `op`; a lost connection becomes StoreUnavailableError (`maybeApplied` unless it was known lost before). */
  private async guard<T>(c: { lost: boolean }, op: () => Promise<T>, maybeApplied: boolean): Promise<T> {
    const lostBefore = c.lost;
    try {
      return await op();
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      c.lost = true;
      // pg refuses to send anything on a client it knows is gone ("… is not queryable").
      const unsent = lostBefore || /not queryable/i.test((err as Error).message ?? "");
      throw unavailableOr(err, maybeApplied && !unsent);
    }
  }
}
