// LOG_FORMAT=pretty: one terminal line per event (time level message key=value…), through winston and through the
// fast request-line writer alike, redacted like the JSON lines, coloured only on a TTY.
import { PassThrough } from "node:stream";
import { createLogger, logLine, prettyLine, registerSecret } from "../../../src/log/logger";

const SECRET = "pretty-registered-secret-7f3a";
registerSecret(SECRET);

function capture(opts: { tty?: boolean; colours?: boolean } = {}) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (opts.tty) stream.isTTY = true;
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  const logger = createLogger("debug", stream, { format: "pretty", ...(opts.colours !== undefined ? { colours: opts.colours } : {}) });
  return { logger, text: () => text };
}

const settle = () => new Promise((r) => setImmediate(r));
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn |info |debug) \S/;

describe("pretty log format", () => {
  test("one line per event, whatever the fields hold (line breaks, stacks, objects, errors)", async () => {
    const { logger, text } = capture();
    logger.info("digicert call", { platform: "one", status: 201, ms: 12 });
    logger.error("unhandled error", { error: new Error("two\nlines"), stack: "Error: x\n    at f (a.ts:1:1)\n    at g (b.ts:2:2)" });
    logger.warn("a message\nwith a line break", { nested: { a: [1, 2, { b: "x\ny" }] } });
    logger.child({ requestId: "child-1" }).debug("from a child", { n: 1 });
    logLine(logger, "info", "request", { requestId: "r-1", path: "/scim/v2/Users", status: 200, note: "with spaces and \"quotes\"\r\n", gone: undefined });
    await settle();
    const lines = text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(LINE);
    expect(lines[0]).toMatch(/ info  digicert call platform=one status=201 ms=12$/);
    expect(lines[1]).toContain('stack="Error: x\\n    at f (a.ts:1:1)\\n    at g (b.ts:2:2)"');
    expect(lines[2]).toContain('"a message\\nwith a line break"');
    expect(lines[3]).toMatch(/ debug from a child .*requestId=child-1/);
    expect(lines[4]).toMatch(/ info  request requestId=r-1 path=\/scim\/v2\/Users status=200 note="with spaces and \\"quotes\\"\\r\\n"$/);
    expect(lines[4]).not.toContain("gone");
  });

  test("a registered secret and secret-named fields are redacted, by winston and by the fast writer", async () => {
    const { logger, text } = capture();
    logger.info(`message with ${SECRET}`, { url: `https://x.test/?k=${SECRET}`, authorization: "Bearer abc", nested: { password: "p", note: SECRET } });
    logger.error("failed", { error: new Error(`DigiCert said ${SECRET}`) });
    logLine(logger, "info", `request ${SECRET}`, { path: `/a/${SECRET}`, token: "tok-value", nested: { apiKey: "k" } });
    await settle();
    const out = text();
    expect(out.split("\n").filter(Boolean)).toHaveLength(3);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain("Bearer abc");
    expect(out).not.toContain("tok-value");
    expect(out).toContain("authorization=[REDACTED]");
    expect(out).toContain("token=[REDACTED]");
    expect(out).toContain('"password":"[REDACTED]"');
    expect(out).toContain('"apiKey":"[REDACTED]"');
  });

  test("colours only when the destination is a TTY (or when asked)", async () => {
    const plain = capture();
    const tty = capture({ tty: true });
    const forced = capture({ colours: true });
    for (const c of [plain, tty, forced]) {
      c.logger.warn("careful", { a: 1 });
      logLine(c.logger, "info", "request", { a: 2 });
    }
    await settle();
    expect(plain.text()).not.toContain("\x1b[");
    expect(tty.text()).toContain("\x1b[33mwarn");
    expect(forced.text()).toContain("\x1b[32minfo");
    expect(tty.text().split("\n").filter(Boolean)).toHaveLength(2);
  });

  test("JSON stays the default", async () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (d: Buffer) => (text += d.toString()));
    const logger = createLogger("info", stream);
    logger.info("hello", { a: 1 });
    logLine(logger, "info", "request", { b: 2 });
    await settle();
    for (const l of text.split("\n").filter(Boolean)) expect(JSON.parse(l)).toMatchObject({ level: "info" });
  });

  test("prettyLine quotes only what would break a field apart", () => {
    expect(prettyLine("T", "info", "m", { a: "plain-value", b: "a b", c: "k=v", d: null, e: true, f: [1] }, false)).toBe(
      'T info  m a=plain-value b="a b" c="k=v" d=null e=true f=[1]',
    );
  });
});
