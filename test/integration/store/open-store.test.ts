// DATABASE_URL validation: clear messages that name the accepted forms and never echo credentials.
import { openStore, parseDatabaseUrl } from "../../../src/store";

describe("openStore with an unsupported DATABASE_URL", () => {
  it.each([
    ["mysql://root:s3cretPa55@db:3306/scim"],
    ["mongodb+srv://admin:s3cretPa55@cluster/scim"],
    ["s3cretPa55"],
    [""],
    ["sqlite:"],
    ["sqlite://s3cretPa55@host/x.db"],
  ])("rejects %j with a DATABASE_URL message", async (url) => {
    const err = await openStore(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/^DATABASE_URL/);
    expect(message).toContain("sqlite:");
    expect(message).toContain("sqlite::memory:");
    expect(message).toContain("postgres://");
    expect(message).not.toContain("s3cretPa55");
  });

  it("recognises the accepted forms", () => {
    expect(parseDatabaseUrl("sqlite:./data/scim.db")).toEqual({ dialect: "sqlite", filename: "./data/scim.db" });
    expect(parseDatabaseUrl("sqlite:/abs/path.db")).toEqual({ dialect: "sqlite", filename: "/abs/path.db" });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", filename: ":memory:" });
    expect(parseDatabaseUrl("postgres://u:p@h:5432/d")).toMatchObject({ dialect: "postgres" });
    expect(parseDatabaseUrl("postgresql://u:p@h/d")).toMatchObject({ dialect: "postgres" });
  });

  it("reports an unreachable PostgreSQL without its password", async () => {
    const err = await openStore("postgres://u:s3cretPa55@127.0.0.1:1/none").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("127.0.0.1:1/none");
    expect((err as Error).message).not.toContain("s3cretPa55");
  });
});
