// A look at the configured database that changes nothing (no migration, no file created): for `digicert-scim check`.
import fs from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Client } from "pg";
import { describeTarget, parseDatabaseUrl } from "./database-url";

export interface DatabaseProbe {
  ok: boolean;
  /** Where, without credentials. */
  target: string;
  detail: string;
}

export async function probeDatabase(databaseUrl: string): Promise<DatabaseProbe> {
  let target: ReturnType<typeof parseDatabaseUrl>;
  try {
    target = parseDatabaseUrl(databaseUrl);
  } catch (err) {
    return { ok: false, target: "DATABASE_URL", detail: (err as Error).message };
  }
  const where = describeTarget(target);
  if (target.dialect === "sqlite") {
    if (target.filename === ":memory:") return { ok: true, target: where, detail: "in memory (nothing kept across restarts)" };
    const file = path.resolve(target.filename);
    if (!fs.existsSync(file)) {
      const dir = path.dirname(file);
      const parent = fs.existsSync(dir) ? dir : path.dirname(dir);
      try {
        fs.accessSync(parent, fs.constants.W_OK);
        return { ok: true, target: where, detail: "no database yet: it will be created at the first start" };
      } catch {
        return { ok: false, target: where, detail: `cannot create the database: ${parent} is not writable` };
      }
    }
    try {
      const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      try {
        db.prepare("select 1").get();
      } finally {
        db.close();
      }
      return { ok: true, target: where, detail: "readable" };
    } catch (err) {
      return { ok: false, target: where, detail: `cannot read it: ${(err as Error).message}` };
    }
  }
  const client = new Client({ connectionString: target.connectionString, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return { ok: true, target: where, detail: "reachable" };
  } catch (err) {
    return { ok: false, target: where, detail: `cannot connect: ${(err as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
