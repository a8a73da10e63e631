// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header a SCIM request may bring, and
// the one the bridge sends DigiCert. Only version 00 is understood; anything else is ignored and a trace begun.
// The bridge records no spans of its own: the trace id ties the request line, the outbox job and its DigiCert
// calls together in the log (and in whatever tracing DigiCert or a proxy runs).
import { randomUUID } from "node:crypto";

export interface TraceContext {
  /** 32 lower-case hex digits, not all zeros. */
  traceId: string;
  /** 2 hex digits; bit 0 is "sampled". */
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZEROS = /^0+$/;

/** The trace an incoming `traceparent` names, or undefined when the header is absent or not a valid version 00 one. */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (!header || header.length !== 55) return undefined;
  const m = TRACEPARENT.exec(header);
  if (!m || ZEROS.test(m[1]) || ZEROS.test(m[2])) return undefined;
  return { traceId: m[1], flags: m[3] };
}

// randomUUID draws from a cached entropy pool, so it is cheaper than randomBytes for every request.
function hex32(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
}

/** A new trace begun by the bridge (flags 01: it is logged, so recorded). */
export function newTrace(): TraceContext {
  return { traceId: hex32(), flags: "01" };
}

/** A new span (parent) id: 16 hex digits, never all zeros. */
export function newSpanId(): string {
  const u = randomUUID();
  // The UUID's random digits (its version nibble and variant digit left out).
  const id = u.slice(0, 8) + u.slice(28, 36);
  return ZEROS.test(id) ? newSpanId() : id;
}

/** The `traceparent` of a call the bridge makes within `trace`: same trace id, a span id of its own. */
export function traceparentFor(trace: TraceContext): string {
  return `00-${trace.traceId}-${newSpanId()}-${trace.flags}`;
}
