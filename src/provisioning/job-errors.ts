// How a failed outbox job is classified and remembered. A job's error is kept as a typed cause and a message so that
// whichever replica answers the waiting SCIM request can rebuild the error the one mapping (scim/errors.ts) expects;
// the store keeps the cause as a code (provisioning/job-failure-codes.ts).
import { DigiCertError, isDigiCertError } from "../digicert/errors";
import { scrubSecrets } from "../log/logger";
import type { JobError, JobFailureCause } from "./records";
import { AccessRemovalError, ConflictError, InvalidInputError, MappingPendingError, MisconfiguredError } from "./errors";
import { StoreUnavailableError } from "./ports";

export type Verdict =
  /**
   * Try again later; `afterMs` is what DigiCert asked for (Retry-After) when it said. `persist`: keep retrying
   * past the attempt limit (at the longest backoff) instead of failing the job.
   */
  | { retry: true; afterMs?: number; countAttempt: boolean; persist?: boolean }
  /** Retrying cannot help: the input, the configuration or the key must change first. */
  | { retry: false };

/** How often a job waiting for the role mapping looks again. */
export const MAPPING_PENDING_RETRY_MS = 5000;

export function verdictOf(err: unknown): Verdict {
  if (err instanceof AccessRemovalError) {
    const inner = verdictOf(err.failure);
    return inner.retry ? { ...inner, persist: true } : { retry: true, countAttempt: true, persist: true };
  }
  if (isDigiCertError(err)) {
    if (err.kind === "unavailable" || err.kind === "rate_limited") {
      const afterMs = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : undefined;
      // A call the open circuit refused never reached DigiCert, and the circuit's failed trial only shows DigiCert
      // is still down: neither uses up the job's attempts (else whichever job makes the trials fails in an outage).
      return { retry: true, afterMs, countAttempt: err.reachedDigiCert && !err.duringOutage };
    }
    // DigiCert took the call (2xx) but its answer was unreadable: the change may have landed, so it is no refusal
    // to roll back; the job converges again (a create is looked up before it is re-sent).
    if (err.maybeApplied) return { retry: true, countAttempt: true };
    return { retry: false };
  }
  if (err instanceof ConflictError || err instanceof InvalidInputError || err instanceof MisconfiguredError) return { retry: false };
  // The mapping resolves as soon as DigiCert answers (or a fixed file is reloaded): waiting uses up no attempt.
  // Looked at again every few seconds: a local check, no DigiCert call.
  if (err instanceof MappingPendingError) return { retry: true, countAttempt: false, afterMs: MAPPING_PENDING_RETRY_MS };
  // The database went away under the job: not the job's fault, so it uses up none of its attempts.
  if (err instanceof StoreUnavailableError) return { retry: true, countAttempt: false };
  // A bug or a store hiccup: worth another try, within the attempt limit.
  return { retry: true, countAttempt: true };
}

/** The message is stored and shown (outbox, SCIM lastError, status page): registered secrets are masked in it. */
export function jobErrorOf(err: unknown): JobError {
  if (err instanceof AccessRemovalError) return { ...jobErrorOf(err.failure), message: scrubSecrets(err.message) };
  const message = err instanceof Error ? err.message : String(err);
  return { cause: causeOf(err), message: scrubSecrets(message) };
}

function causeOf(err: unknown): JobFailureCause {
  if (isDigiCertError(err)) return { source: "digicert", kind: err.kind };
  if (err instanceof ConflictError) return { source: "conflict" };
  if (err instanceof InvalidInputError) return err.field ? { source: "invalid", field: err.field } : { source: "invalid" };
  if (err instanceof MisconfiguredError) return { source: "misconfigured" };
  return { source: "internal" };
}

/** The error a job's failure stands for, for the SCIM request that waited on it. */
export function errorOfJob(e: JobError): Error {
  const { cause } = e;
  switch (cause.source) {
    case "digicert":
      return new DigiCertError(cause.kind, e.message);
    case "conflict":
      return new ConflictError(e.message);
    case "invalid":
      return new InvalidInputError(e.message, cause.field);
    case "misconfigured":
      return new MisconfiguredError(e.message);
    case "internal":
      return new Error(e.message);
  }
}
