// How a failed outbox job is classified and remembered. A job's error is stored as a kind and a message so that
// whichever replica answers the waiting SCIM request can rebuild the error the one mapping (scim/errors.ts) expects.
import { DigiCertError, isDigiCertError, type DigiCertErrorKind } from "../digicert/errors";
import type { JobError } from "../store/types";
import { AccessRemovalError, ConflictError, InvalidInputError, MisconfiguredError } from "./errors";

export type Verdict =
  /**
   * Try again later; `afterMs` is what DigiCert asked for (Retry-After) when it said. `persist`: keep retrying
   * past the attempt limit (at the longest backoff) instead of failing the job.
   */
  | { retry: true; afterMs?: number; countAttempt: boolean; persist?: boolean }
  /** Retrying cannot help: the input, the configuration or the key must change first. */
  | { retry: false };

/** The fail-fast error of an open circuit carries this message prefix (digicert/circuit.ts). */
const CIRCUIT_OPEN = /circuit open/i;

export function verdictOf(err: unknown): Verdict {
  if (err instanceof AccessRemovalError) {
    const inner = verdictOf(err.failure);
    return inner.retry ? { ...inner, persist: true } : { retry: true, countAttempt: true, persist: true };
  }
  if (isDigiCertError(err)) {
    if (err.kind === "unavailable" || err.kind === "rate_limited") {
      const afterMs = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : undefined;
      // A call the open circuit refused never reached DigiCert: it does not use up the job's attempts.
      return { retry: true, afterMs, countAttempt: !CIRCUIT_OPEN.test(err.message) };
    }
    return { retry: false };
  }
  if (err instanceof ConflictError || err instanceof InvalidInputError || err instanceof MisconfiguredError) return { retry: false };
  // A bug or a store hiccup: worth another try, within the attempt limit.
  return { retry: true, countAttempt: true };
}

export function jobErrorOf(err: unknown): JobError {
  if (err instanceof AccessRemovalError) return { ...jobErrorOf(err.failure), message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  if (isDigiCertError(err)) return { kind: `digicert:${err.kind}`, message };
  if (err instanceof ConflictError) return { kind: "conflict", message };
  if (err instanceof InvalidInputError) return { kind: err.field ? `invalid:${err.field}` : "invalid", message };
  if (err instanceof MisconfiguredError) return { kind: "misconfigured", message };
  return { kind: "internal", message };
}

/** The error a job's failure stands for, for the SCIM request that waited on it. */
export function errorOfJob(e: JobError): Error {
  const [kind, detail] = e.kind.split(":", 2) as [string, string | undefined];
  switch (kind) {
    case "digicert":
      return new DigiCertError((detail ?? "unexpected") as DigiCertErrorKind, e.message);
    case "conflict":
      return new ConflictError(e.message);
    case "invalid":
      return new InvalidInputError(e.message, detail);
    case "misconfigured":
      return new MisconfiguredError(e.message);
    default:
      return new Error(e.message);
  }
}
