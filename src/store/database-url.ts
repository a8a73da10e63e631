// Parses DATABASE_URL into a dialect target. Error messages never echo the URL itself: it may carry a password.

export type DatabaseTarget =
  | { dialect: "sqlite"; filename: string } // ":memory:" or a path (relative to the working directory)
  | { dialect: "postgres"; connectionString: string };

export const ACCEPTED_DATABASE_URL_FORMS =
  "sqlite:<path> (e.g. sqlite:./data/scim.db or sqlite:/abs/path.db), sqlite::memory:, " +
  "postgres://user:password@host:5432/db or postgresql://user:password@host:5432/db";

export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  const url = (databaseUrl ?? "").trim();
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new Error(`DATABASE_URL is not a valid PostgreSQL URL; accepted forms: ${ACCEPTED_DATABASE_URL_FORMS}`);
    }
    return { dialect: "postgres", connectionString: url };
  }
  if (/^sqlite:/i.test(url)) {
    const filename = url.slice("sqlite:".length);
    // "sqlite://x" is ambiguous (host or path?), so it is refused rather than guessed.
    if (filename === "" || filename.startsWith("//")) {
      throw new Error(`DATABASE_URL has an unusable SQLite path; accepted forms: ${ACCEPTED_DATABASE_URL_FORMS}`);
    }
    return { dialect: "sqlite", filename };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  const got = url === "" ? "it is empty" : scheme ? `got scheme "${scheme}:"` : "it has no scheme";
  throw new Error(`DATABASE_URL is not supported (${got}); accepted forms: ${ACCEPTED_DATABASE_URL_FORMS}`);
}

/** A loggable description of the target: host, port and database for PostgreSQL, never credentials. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === "sqlite") return `sqlite:${target.filename}`;
  const u = new URL(target.connectionString);
  return `postgres://${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
}
