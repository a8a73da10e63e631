// Logs that correlate: a SCIM request's traceparent (or a trace the bridge begins) reaches the request line, the
// outbox job and every DigiCert call the job makes (their traceparent and their log lines), and DigiCert call
// lines name the request, job and user behind them.
import { oktaUser, startHarness, type Harness } from "../../support/harness";
import type { Platform } from "../../../src/digicert/types";
import type { RecordedCall } from "../../../src/simulator/types";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = "b7ad6b7169203331";

type Line = Record<string, unknown>;

function lines(h: Harness): Line[] {
  return h
    .logs()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe.each<Platform>(["certcentral", "one"])("trace context and correlated logs (%s)", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform, env: { TRUST_PROXY: "1" } });
  });
  afterAll(async () => {
    await h.close();
  });

  /** Creates a user with these extra headers; gives its request line, its job's DigiCert calls and their log lines. */
  async function create(userName: string, headers: Record<string, string>) {
    const before = h.sim.calls.length;
    let t = h.post("/scim/v2/Users", oktaUser(userName));
    for (const [k, v] of Object.entries(headers)) t = t.set(k, v);
    const res = await t;
    expect(res.status).toBe(201);
    await h.drain();
    const requestId = res.headers["x-request-id"] as string;
    const all = lines(h);
    const requestLine = all.find((l) => l.message === "request" && l.requestId === requestId && l.method === "POST")!;
    const callLines = all.filter((l) => l.message === "digicert call" && l.requestId === requestId);
    const since = h.sim.calls.slice(before);
    // The job's calls: every write since (nothing else writes here), and the reads that carry the request's trace.
    const writes = since.filter((c: RecordedCall) => c.method !== "GET");
    const calls = since.filter((c: RecordedCall) => c.method !== "GET" || TRACEPARENT.exec(c.headers.traceparent ?? "")?.[1] === requestLine.traceId);
    expect(writes.length).toBeGreaterThan(0);
    // One log line, naming the request, for each of them.
    expect(callLines).toHaveLength(calls.length);
    return { res, requestId, requestLine, callLines, calls, userId: res.body.id as string };
  }

  test("a valid traceparent: its trace id on the request line, in DigiCert's traceparent (a new span) and on the call lines", async () => {
    const { requestLine, callLines, calls, requestId, userId } = await create(`trace.valid.${platform}@example.com`, {
      traceparent: `00-${TRACE}-${PARENT}-01`,
      "X-Forwarded-For": "198.51.100.23",
    });
    expect(requestLine).toMatchObject({ traceId: TRACE, clientAddress: "198.51.100.23", status: 201 });

    for (const c of calls) {
      const m = TRACEPARENT.exec(c.headers.traceparent ?? "");
      expect(m).not.toBeNull();
      expect(m![1]).toBe(TRACE);
      expect(m![2]).not.toBe(PARENT);
      expect(m![2]).not.toMatch(/^0+$/);
      expect(m![3]).toBe("01");
    }
    // Each HTTP request to DigiCert is a span of its own.
    const spans = new Set(calls.map((c) => c.headers.traceparent));
    expect(spans.size).toBe(calls.length);

    expect(callLines.length).toBeGreaterThan(0);
    for (const l of callLines) {
      expect(l).toMatchObject({ requestId, userId, traceId: TRACE, origin: "outbox create" });
      expect(typeof l.jobId).toBe("number");
    }
    const job = (await h.bridge.store.outbox.list({ userId, limit: 10 })).find((j) => j.kind === "create");
    expect(job?.payload).toMatchObject({ requestId, traceId: TRACE, traceFlags: "01" });
    expect(callLines[0].jobId).toBe(job!.id);
  });

  test("an invalid traceparent is ignored: the bridge begins a trace and sends that one on", async () => {
    const { requestLine, callLines, calls } = await create(`trace.invalid.${platform}@example.com`, {
      traceparent: `00-${"0".repeat(32)}-${PARENT}-01`,
    });
    const traceId = requestLine.traceId as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toMatch(/^0+$/);
    for (const c of calls) expect(TRACEPARENT.exec(c.headers.traceparent ?? "")?.[1]).toBe(traceId);
    expect(callLines.length).toBeGreaterThan(0);
    for (const l of callLines) expect(l.traceId).toBe(traceId);
  });

  test("without a traceparent the bridge begins a trace; without X-Forwarded-For the client is the peer", async () => {
    const { requestLine, callLines } = await create(`trace.none.${platform}@example.com`, {});
    expect(requestLine.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(requestLine.clientAddress).toMatch(/127\.0\.0\.1|::1/);
    expect(callLines.length).toBeGreaterThan(0);
    for (const l of callLines) expect(l.traceId).toBe(requestLine.traceId);
  });

  test("a Bulk request's operations carry its trace: their request lines and their DigiCert calls", async () => {
    const bulkTrace = "1f2e3d4c5b6a79881f2e3d4c5b6a7988";
    const before = h.sim.calls.length;
    const res = await h
      .post("/scim/v2/Bulk", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: [{ method: "POST", path: "/Users", bulkId: "a", data: oktaUser(`trace.bulk.${platform}@example.com`) }],
      })
      .set("traceparent", `00-${bulkTrace}-${PARENT}-00`);
    expect(res.status).toBe(200);
    expect(res.body.Operations[0].status).toBe("201");
    await h.drain();
    const bulkId = res.headers["x-request-id"] as string;
    const opLine = lines(h).find((l) => l.message === "request" && l.requestId === `${bulkId}.1`);
    expect(opLine).toMatchObject({ traceId: bulkTrace, status: 201 });
    const writes = h.sim.calls.slice(before).filter((c: RecordedCall) => c.method !== "GET");
    expect(writes.length).toBeGreaterThan(0);
    for (const c of writes) expect(c.headers.traceparent).toMatch(new RegExp(`^00-${bulkTrace}-[0-9a-f]{16}-00$`));
  });

  test("a readiness check names itself as the origin of its DigiCert call", async () => {
    await h.get("/readyz");
    const ping = lines(h).find((l) => l.message === "digicert call" && l.origin === "readiness check");
    expect(ping).toBeDefined();
    expect(ping!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ping!.jobId).toBeUndefined();
  });
});
