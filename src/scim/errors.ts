import type { Response } from "express";
import { SCIMMY } from "scimmy-routers";
import { isDigiCertError } from "../digicert/errors";
import { scrubSecrets } from "../log/logger";
import { ConcurrentChangeError, ConflictError, InvalidInputError, MisconfiguredError, NotFoundError, PreconditionFailedError } from "../provisioning/errors";
import type { ProfileField } from "../provisioning/model";
import { StoreConflictError, StoreUnavailableError } from "../provisioning/ports";

// The one place where failures become SCIM errors. Everything else throws typed errors and lets this decide.
//
// The families failureOf maps, each recognised by its class (never by its message):
// - SCIM input: SCIMMY.Types.Error (status and scimType as SCIMMY or our parsers set them: filters, PATCH, Bulk,
//   attributes=); ScimResponseError is one of ours already mapped, carried through SCIMMY unchanged.
// - provisioning (ProvisioningError, provisioning/errors.ts): not found, precondition, conflict and concurrent change,
//   invalid input (naming the SCIM attribute), misconfiguration.
// - DigiCert (DigiCertError, digicert/errors.ts), by its `kind`: refusals, rate limiting and outages (429/503 with
//   Retry-After), a refused key (502).
// - store (StoreError, declared with the persistence ports in provisioning/ports.ts): a unique clash is a 409; a
//   version clash is turned into a concurrent change by the services and never reaches here; the database
//   unreachable or a connection lost (StoreUnavailableError) is a 503 with Retry-After: the IdP retries, and a
//   write that may have landed before the connection went is made safe by idempotency keys and adoption.
// - Express and its body parser: a bad percent-encoding, an unreadable or oversized body.
// Anything else is ours: a 500 that says nothing of the cause, logged with its stack.

export const SCIM_ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";

export interface ScimFailure {
  status: number;
  scimType?: string;
  detail: string;
  retryAfterSeconds?: number;
  /** True when the failure is ours, not the client's or DigiCert's: log it with its stack. */
  internal?: boolean;
  /** A concurrent change got in first: recomputing the request on a fresh read may succeed. */
  concurrent?: boolean;
}

/** SCIM attribute that carried each DigiCert profile field, so a 400 names what the IdP must change. */
const SCIM_ATTRIBUTE: Record<ProfileField, string> = {
  userName: "userName",
  givenName: "name.givenName",
  familyName: "name.familyName",
  email: "emails",
  jobTitle: "title",
  phone: "phoneNumbers",
};

const isProfileField = (name: string): name is ProfileField => Object.hasOwn(SCIM_ATTRIBUTE, name);

/**
 * An invalid-input message naming the SCIM attribute once. The profile checks already list their problems as
 * "<field>: …; <field>: …" (provisioning/profile.ts): each field is renamed to its SCIM attribute rather than
 * prefixed again ("userName: userName: …"); any other message gets the attribute of its field in front.
 */
function namingAttributes(message: string, field: string | undefined): string {
  const lead = /^(\w+): /.exec(message);
  if (lead && isProfileField(lead[1])) {
    return message
      .split("; ")
      .map((part) => {
        const m = /^(\w+): /.exec(part);
        return m && isProfileField(m[1]) ? `${SCIM_ATTRIBUTE[m[1]]}: ${part.slice(m[0].length)}` : part;
      })
      .join("; ");
  }
  const attr = field && isProfileField(field) ? SCIM_ATTRIBUTE[field] : undefined;
  return attr ? `${attr}: ${message}` : message;
}

const DEFAULT_RATE_RETRY_S = 5;
const DEFAULT_UNAVAILABLE_RETRY_S = 10;
/** A dropped connection is replaced at once; a failover takes seconds. */
const STORE_UNAVAILABLE_RETRY_S = 5;

/** The SCIM error an error stands for; its detail never carries a registered secret (a DigiCert echo, a token). */
export function failureOf(err: unknown): ScimFailure {
  const f = mapFailure(err);
  const detail = scrubSecrets(f.detail);
  return detail === f.detail ? f : { ...f, detail };
}

function mapFailure(err: unknown): ScimFailure {
  if (err instanceof ScimResponseError) return err.failure;
  if (err instanceof SCIMMY.Types.Error) {
    const e = err as unknown as { status: number; scimType?: string; message: string };
    return { status: Number(e.status) || 500, scimType: e.scimType ?? undefined, detail: e.message };
  }
  if (err instanceof NotFoundError) return { status: 404, detail: err.message };
  if (err instanceof PreconditionFailedError) return { status: 412, detail: err.message };
  if (err instanceof ConcurrentChangeError) return { status: 409, detail: err.message, concurrent: true };
  if (err instanceof ConflictError || err instanceof StoreConflictError) {
    return { status: 409, scimType: "uniqueness", detail: err.message };
  }
  if (err instanceof StoreUnavailableError) {
    return { status: 503, detail: "The bridge's database is unavailable; retry later", retryAfterSeconds: STORE_UNAVAILABLE_RETRY_S };
  }
  if (err instanceof InvalidInputError) return { status: 400, scimType: "invalidValue", detail: namingAttributes(err.message, err.field) };
  if (err instanceof MisconfiguredError) return { status: 502, detail: `Bridge configuration problem: ${err.message}` };
  if (isDigiCertError(err)) {
    switch (err.kind) {
      case "validation":
        return { status: 400, scimType: "invalidValue", detail: `DigiCert rejected the user: ${err.message}` };
      case "duplicate":
        return { status: 409, scimType: "uniqueness", detail: `DigiCert: ${err.message}` };
      case "rate_limited":
        return {
          status: 429,
          detail: "DigiCert is rate limiting the bridge; retry later",
          retryAfterSeconds: err.retryAfterSeconds ?? DEFAULT_RATE_RETRY_S,
        };
      case "unavailable":
        return {
          status: 503,
          detail: "DigiCert is unavailable (unreachable, timed out or failing); retry later",
          retryAfterSeconds: err.retryAfterSeconds ?? DEFAULT_UNAVAILABLE_RETRY_S,
        };
      case "auth":
        return { status: 502, detail: "DigiCert refused the bridge's API key: check DIGICERT_API_KEY" };
      case "forbidden":
        return {
          status: 502,
          detail: "The DigiCert API key lacks permission to manage users: check the key's role (DIGICERT_API_KEY)",
        };
      default:
        return { status: 502, detail: `Unexpected answer from DigiCert: ${err.message}` };
    }
  }
  // Express answers a route parameter that is not valid percent-encoding with a URIError marked 400.
  // Checked by name: under test runners the URIError may come from another realm.
  if ((err as { name?: unknown })?.name === "URIError" && (err as { status?: unknown }).status === 400) {
    return { status: 400, scimType: "invalidValue", detail: "The request path is not valid percent-encoding" };
  }
  if (isBodyParserError(err)) {
    if (err.type === "entity.too.large") return { status: 413, detail: "Request body is too large" };
    if (err.type === "entity.parse.failed") return { status: 400, scimType: "invalidSyntax", detail: "Request body is not valid JSON" };
    return { status: 400, scimType: "invalidSyntax", detail: "Request body could not be read" };
  }
  return { status: 500, detail: "Internal error; the request was not applied", internal: true };
}

function isBodyParserError(err: unknown): err is { type: string; status: number } {
  return typeof err === "object" && err !== null && typeof (err as { type?: unknown }).type === "string" &&
    typeof (err as { status?: unknown }).status === "number";
}

export function errorBody(f: ScimFailure): Record<string, unknown> {
  return { schemas: [SCIM_ERROR_URN], status: String(f.status), ...(f.scimType ? { scimType: f.scimType } : {}), detail: f.detail };
}

/**
 * A failure of ours thrown through SCIMMY, carrying the ScimFailure it stands for. It is a SCIMMY error, so SCIMMY's
 * resource code rethrows it untouched (a plain Error would become a misleading 404). It is never rendered by
 * scimmy-routers, which cannot express 429/502/503 and drops Retry-After: the router's error handler reads `status`
 * first, and reading it there throws the error itself, which Express hands on to the app's error handler
 * (http/errors.ts), the one place failures are rendered. Our code reads `failure`, never `status`.
 */
export class ScimResponseError extends SCIMMY.Types.Error {
  readonly failure: ScimFailure;

  constructor(failure: ScimFailure) {
    super(failure.status, (failure.scimType ?? null) as string, failure.detail);
    this.name = "ScimResponseError";
    this.failure = failure;
    Object.defineProperty(this, "status", {
      get: () => {
        throw this;
      },
      set: () => undefined,
      configurable: true,
    });
  }
}

/** Sends a SCIM error body; used for every error the app answers itself (outside SCIMMY's own rendering). */
export function sendScimError(res: Response, f: ScimFailure): void {
  if (f.retryAfterSeconds !== undefined) res.set("Retry-After", String(Math.max(1, Math.ceil(f.retryAfterSeconds))));
  res.status(f.status).type("application/scim+json").send(errorBody(f));
}
