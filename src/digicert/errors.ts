// Typed failures of a DigiCert call. Messages are safe to show an admin: they carry DigiCert's own message text,
// never the API key, request headers or a raw response body; a secret DigiCert echoes (the API key, a token: the
// values registered with the log redactor) is masked when the error is made, so no later reader sees it.
import { scrubSecrets } from "../log/logger";

export type DigiCertErrorKind =
  | "validation" // DigiCert refused the input (400-class, not a duplicate)
  | "duplicate" // username already taken
  | "not_found"
  | "auth" // the API key was refused (CertCentral 403 access_denied_invalid_key, ONE 401)
  | "forbidden" // the key is valid but lacks permission
  | "rate_limited" // 429
  | "unavailable" // unreachable, timeout, 5xx
  | "unsupported" // the platform has no such operation
  | "unexpected"; // an answer we could not understand

export class DigiCertError extends Error {
  readonly kind: DigiCertErrorKind;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterSeconds?: number;
  /** False when the call never left the bridge (the open circuit refused it): it tells nothing new about DigiCert. */
  readonly reachedDigiCert: boolean;
  /**
   * DigiCert accepted the call (2xx) but its answer could not be read (not JSON, or a create answer without the
   * id): the call may well have taken effect. Not a refusal: a create is looked up, never rolled back.
   */
  readonly maybeApplied: boolean;
  /**
   * The failed trial call of an open circuit (http.ts): DigiCert as a whole is still down. It says nothing about the
   * job that happened to make the trial, so it uses up none of that job's attempts.
   */
  duringOutage = false;

  constructor(
    kind: DigiCertErrorKind,
    message: string,
    opts: { status?: number; code?: string; retryAfterSeconds?: number; reachedDigiCert?: boolean; maybeApplied?: boolean } = {},
  ) {
    super(scrubSecrets(message));
    this.name = "DigiCertError";
    this.kind = kind;
    this.status = opts.status;
    this.code = opts.code === undefined ? undefined : scrubSecrets(opts.code);
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.reachedDigiCert = opts.reachedDigiCert ?? true;
    this.maybeApplied = opts.maybeApplied ?? false;
  }
}

export function isDigiCertError(e: unknown): e is DigiCertError {
  return e instanceof DigiCertError;
}
