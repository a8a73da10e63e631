// The one place a job's failure cause meets its stored form: the outbox's error_kind column holds a code such as
// "digicert:validation", "conflict", "invalid:email", "misconfigured" or "internal". Rows written by any version
// read back, and the code doubles as the short label admins see (status page, `digicert-scim outbox`).
import type { DigiCertErrorKind } from "../digicert/errors";
import type { JobFailureCause } from "./records";

const DIGICERT_KINDS: ReadonlySet<string> = new Set<DigiCertErrorKind>([
  "validation",
  "duplicate",
  "not_found",
  "auth",
  "forbidden",
  "rate_limited",
  "unavailable",
  "unsupported",
  "unexpected",
]);

export function jobFailureCode(cause: JobFailureCause): string {
  switch (cause.source) {
    case "digicert":
      return `digicert:${cause.kind}`;
    case "invalid":
      return cause.field ? `invalid:${cause.field}` : "invalid";
    default:
      return cause.source;
  }
}

/** Total: a code this version does not know reads as the nearest cause (an unknown DigiCert kind as "unexpected"). */
export function jobFailureCause(code: string): JobFailureCause {
  const [source, detail] = code.split(":", 2) as [string, string | undefined];
  switch (source) {
    case "digicert":
      return { source, kind: detail && DIGICERT_KINDS.has(detail) ? (detail as DigiCertErrorKind) : "unexpected" };
    case "invalid":
      return detail ? { source, field: detail } : { source };
    case "conflict":
    case "misconfigured":
      return { source };
    default:
      return { source: "internal" };
  }
}
