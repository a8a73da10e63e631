// `digicert-scim migrate`: brings the database schema up to date and says what it applied. The server does the
// same at every start (under an advisory lock on PostgreSQL); this lets an admin do it ahead of a rollout.
import { PassThrough } from "node:stream";
import { createLogger, registerSecret } from "../log/logger";
import { openStore } from "../store";
import { describeTarget } from "../store/database-url";
import { parseDatabaseUrl } from "../store";
import { configOrReport, line, type Output } from "./common";

export async function migrateCommand(opts: { json?: boolean }, env: NodeJS.ProcessEnv, stdout: Output, stderr: Output): Promise<number> {
  const config = configOrReport(env, stderr, { storeOnly: true });
  if (!config) return 1;
  let where = "DATABASE_URL";
  try {
    const target = parseDatabaseUrl(config.databaseUrl);
    where = describeTarget(target);
    if (target.dialect === "postgres") registerSecret(decodeURIComponent(new URL(target.connectionString).password) || undefined);
  } catch {
    // openStore reports it below.
  }
  const stream = new PassThrough();
  const applied: string[] = [];
  stream.on("data", (d: Buffer) => {
    for (const text of d.toString().split("\n")) {
      if (!text.trim()) continue;
      try {
        const entry = JSON.parse(text) as { message?: string; migration?: string };
        if (entry.message === "database migration applied" && entry.migration) applied.push(entry.migration);
      } catch {
        // not a log line of ours
      }
    }
  });
  try {
    const store = await openStore(config.databaseUrl, { logger: createLogger("info", stream) });
    await store.close();
  } catch (err) {
    line(stderr, `Cannot migrate the database at ${where}: ${(err as Error).message}`);
    return 1;
  }
  await new Promise((r) => setImmediate(r));
  if (opts.json) line(stdout, JSON.stringify({ database: where, applied }, null, 2));
  else if (applied.length) line(stdout, `${where}: applied ${applied.join(", ")}`);
  else line(stdout, `${where}: already up to date`);
  return 0;
}
