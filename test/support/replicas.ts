// Real bridge processes for the multi-replica tests: each replica is `src/main.ts` in its own Node process (as in
// production: separate memory, separate outbox worker, separate pacer), on its own port, sharing PostgreSQL,
// Redis and the DigiCert simulator with the others.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Client } from "pg";

const ROOT = path.resolve(__dirname, "../..");
export const REPLICA_TOKEN = "replica-token-0123456789abcdef";

export interface Replica {
  name: string;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  proc: ChildProcess;
  logs(): string;
  /** SIGKILL: the process dies at once, mid-request and mid-job. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts one bridge process and resolves once it listens. */
export async function startReplica(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Replica> {
  const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d.toString()));
  proc.stderr!.on("data", (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start within ${timeoutMs} ms:\n${out.slice(-3000)}`)), timeoutMs);
    const onData = () => {
      const m = /"scimBaseUrl":"(http:\/\/[^"]+)\/scim\/v2"/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off("data", onData);
        resolve(m[1]);
      }
    };
    proc.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited with ${code} before listening:\n${out.slice(-3000)}`));
    });
  });
  return {
    name,
    url,
    proc,
    logs: () => out,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** A fresh PostgreSQL schema, and the DATABASE_URL that puts a process's connections in it. */
export async function freshPgSchema(baseUrl: string, tag: string): Promise<{ schema: string; databaseUrl: string; drop(): Promise<void> }> {
  const schema = `replicas_${tag}_${process.pid}_${randomUUID().slice(0, 8)}`;
  const client = new Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`create schema "${schema}"`);
  } finally {
    await client.end();
  }
  const u = new URL(baseUrl);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return {
    schema,
    databaseUrl: u.toString(),
    async drop() {
      const c = new Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A SCIM call to one replica with the shared token; returns status, headers and the parsed body. */
export async function scim(
  replica: Pick<Replica, "url">,
  method: string,
  pathname: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${replica.url}/scim/v2${pathname}`, {
    method,
    headers: {
      Authorization: `Bearer ${REPLICA_TOKEN}`,
      ...(body !== undefined ? { "Content-Type": "application/scim+json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
