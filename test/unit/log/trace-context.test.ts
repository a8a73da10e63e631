// W3C Trace Context: which incoming traceparent headers are honoured, and what the bridge sends on.
import { newSpanId, newTrace, parseTraceparent, traceparentFor } from "../../../src/log/trace-context";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  test("a valid version 00 header gives its trace id and flags", () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ traceId: TRACE, flags: "01" });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)).toEqual({ traceId: TRACE, flags: "00" });
  });

  test.each([
    ["absent", undefined],
    ["empty", ""],
    ["another version", `01-${TRACE}-${PARENT}-01`],
    ["version ff", `ff-${TRACE}-${PARENT}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${PARENT}-01`],
    ["an all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ["a short trace id", `00-${TRACE.slice(1)}-${PARENT}-01`],
    ["a long parent id", `00-${TRACE}-${PARENT}0-01`],
    ["one-digit flags", `00-${TRACE}-${PARENT}-1`],
    ["non-hex", `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
    ["trailing data", `00-${TRACE}-${PARENT}-01-extra`],
    ["garbage", "hello"],
  ])("%s is ignored", (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

describe("new traces and spans", () => {
  test("a new trace has a 32-hex id, never zeros, flags 01, and differs each time", () => {
    const a = newTrace();
    const b = newTrace();
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.traceId).not.toMatch(/^0+$/);
    expect(a.flags).toBe("01");
    expect(a.traceId).not.toBe(b.traceId);
  });

  test("a span id is 16 hex digits; traceparentFor keeps the trace and flags with a new span each time", () => {
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
    const one = traceparentFor({ traceId: TRACE, flags: "00" });
    const two = traceparentFor({ traceId: TRACE, flags: "00" });
    expect(parseTraceparent(one)).toEqual({ traceId: TRACE, flags: "00" });
    expect(one.split("-")[2]).not.toBe(two.split("-")[2]);
  });
});
