import { Client } from "pg";
import type { Platform } from "../../src/digicert/types";

export const PG_URL = process.env.TEST_DATABASE_URL;

/** Platform × store combinations an HTTP suite runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function storeVariants(suite: string): [string, Platform, "sqlite" | "postgres"][] {
  if (!PG_URL) console.warn(`PostgreSQL variant of the ${suite} tests skipped: TEST_DATABASE_URL not set`);
  const out: [string, Platform, "sqlite" | "postgres"][] = [
    ["certcentral on SQLite", "certcentral", "sqlite"],
    ["one on SQLite", "one", "sqlite"],
  ];
  if (PG_URL) out.push(["certcentral on PostgreSQL", "certcentral", "postgres"], ["one on PostgreSQL", "one", "postgres"]);
  return out;
}

export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!PG_URL) return;
  const c = new Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}
