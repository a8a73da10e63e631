import type { NextFunction, Request, Response } from "express";
import { requestContext } from "../http/request-context";
import { sendScimError } from "./errors";

/** Says whether a write may enter now; when not, how long the client should wait (from the outbox drain rate). */
export type WriteAdmission = () => Promise<{ retryAfterSeconds: number; pending: number } | null>;

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Back-pressure toward the IdP: while the outbox toward DigiCert is deeper than its bound, writes get 429 with a
 * Retry-After (Okta and Entra slow down and retry); reads always go through. A failure to measure lets the write in.
 */
export function backPressure(admit: WriteAdmission) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // A Bulk request is admitted (or refused) as a whole, not again for each of its operations.
    if (!WRITES.has(req.method) || requestContext(res).bulkOperation) return next();
    let verdict: Awaited<ReturnType<WriteAdmission>> = null;
    try {
      verdict = await admit();
    } catch {
      verdict = null;
    }
    if (!verdict) return next();
    requestContext(res).backPressured = true;
    sendScimError(res, {
      status: 429,
      detail: `The bridge has ${verdict.pending} changes waiting for DigiCert; retry after ${verdict.retryAfterSeconds} s`,
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  };
}
