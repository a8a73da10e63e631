import { createHash, randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log/logger";
import type { IdempotencyRepository } from "../provisioning/ports";
import { IDEMPOTENCY_IN_FLIGHT } from "../provisioning/records";
import { requestContext } from "../http/request-context";
import { sendScimError } from "./errors";
import type { ScimResources } from "./resource-types";
import { onAnswer } from "./response-steps";

// Idempotency-Key on creates (draft-ietf-httpapi-idempotency-key-header): an HR script that retries a POST whose
// answer it never got receives the original 201 again instead of a 409. Keys are scoped to the credential.
//
// The first request claims the key in the store (an in-flight marker, unique per credential and key, so this holds
// across replicas). A retry that arrives while the original is still being answered waits for it (polling the
// store, at most `inFlightMs`) and gets its answer, whatever it was: the 201, or the same refusal (the draft's
// "same answer"), marked Idempotency-Replayed. Only a 201 is kept for later retries: once a failed original has
// answered, the next request with its key runs again, so a create that failed can be retried once the cause is
// fixed. A marker whose owner never answered (a crashed replica) goes stale after `inFlightMs` and is taken over.
// Only a refusal (>= 400) frees the key for a new request; any other answer is kept.

const KEY = /^[\x21-\x7e]{1,255}$/;
const POLL_MS = 100;

export interface IdempotencyOptions {
  /**
   * How long a claimed key may stay in flight before it is presumed dead and taken over, which is also the
   * longest a retry waits for its original: SYNC_WAIT_MS plus a margin for the store and the rest of the request.
   */
  inFlightMs: number;
}

function requestHash(req: Request): string {
  return createHash("sha256").update(`${req.method} ${req.baseUrl}${req.path}\n${JSON.stringify(req.body ?? null)}`).digest("hex");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function idempotentCreates(store: IdempotencyRepository, logger: Logger, resources: ScimResources, opts: IdempotencyOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = req.get("idempotency-key");
    if (req.method !== "POST" || !resources.collectionPath(req.path) || key === undefined) return next();
    if (!KEY.test(key)) {
      return sendScimError(res, { status: 400, scimType: "invalidValue", detail: "Idempotency-Key must be 1 to 255 visible ASCII characters" });
    }
    const credential = String(requestContext(res).credential ?? "none");
    const hash = requestHash(req);
    const token = randomUUID();
    const deadline = Date.now() + opts.inFlightMs;
    try {
      // Claimed on arrival; while waiting, only a marker that went stale (or vanished) is claimed again: a waiter
      // must see its original's answer, failure included, rather than take the key over from it.
      for (let waited = false, mayClaim = true; ; waited = true) {
        const staleBefore = new Date(Date.now() - opts.inFlightMs).toISOString();
        if (mayClaim && (await store.claim(credential, key, hash, token, staleBefore))) break;
        const stored = await store.get(credential, key);
        mayClaim = !stored || (stored.status === IDEMPOTENCY_IN_FLIGHT && stored.created < staleBefore);
        // Abandoned or purged in between, or its owner is presumed dead: claim it (whatever request it was for).
        if (mayClaim || !stored) continue;
        if (stored.requestHash !== hash) {
          return sendScimError(res, { status: 422, detail: "This Idempotency-Key was already used for a different request" });
        }
        if (stored.status !== IDEMPOTENCY_IN_FLIGHT) {
          // A kept 201, or the failure of the original this request waited for.
          if (stored.location) res.location(stored.location);
          res.set("Idempotency-Replayed", "true");
          res.status(stored.status).type("application/scim+json").send(stored.body);
          return;
        }
        if (Date.now() >= deadline) {
          // Only when the original outlives its own bound without going stale (a clock far apart between replicas).
          res.set("Retry-After", "1");
          return sendScimError(res, { status: 409, detail: "A request with this Idempotency-Key is still being answered; retry later" });
        }
        if (!waited) logger.debug("Idempotency-Key in flight; waiting for the original's answer", { credential });
        await sleep(POLL_MS);
      }
    } catch (err) {
      return next(err);
    }
    // A client that goes away does not free the key: its request runs on and answers (to no one), and that answer
    // is what its retry gets. Only a request that never answers (its replica died) leaves a marker to go stale.
    onAnswer(res, async ({ status, body }) => {
      const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
      const location = (body as { meta?: { location?: unknown } })?.meta?.location;
      // Persist before answering, so a retry that races the answer finds it. A failure is stored for the retries
      // already waiting on this one (the store lets the next new request take the key over).
      await store
        .complete({ credential, key, requestHash: hash, status, location: status === 201 && typeof location === "string" ? location : null, body: text }, token)
        .catch((err) => logger.warn("could not keep the Idempotency-Key response", { error: (err as Error).message }));
    });
    next();
  };
}
