import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log/logger";
import type { IdempotencyRepository } from "../provisioning/ports";
import { requestContext } from "../http/request-context";
import { sendScimError } from "./errors";
import type { ScimResources } from "./resource-types";
import { onAnswer } from "./response-steps";

// Idempotency-Key on creates (draft-ietf-httpapi-idempotency-key-header): an HR script that retries a POST whose
// answer it never got receives the original 201 again instead of a 409. Keys are scoped to the credential;
// only successful answers are kept, so a failed create can be retried with the same key.

const KEY = /^[\x21-\x7e]{1,255}$/;

function requestHash(req: Request): string {
  return createHash("sha256").update(`${req.method} ${req.baseUrl}${req.path}\n${JSON.stringify(req.body ?? null)}`).digest("hex");
}

export function idempotentCreates(store: IdempotencyRepository, logger: Logger, resources: ScimResources) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = req.get("idempotency-key");
    if (req.method !== "POST" || !resources.collectionPath(req.path) || key === undefined) return next();
    if (!KEY.test(key)) {
      return sendScimError(res, { status: 400, scimType: "invalidValue", detail: "Idempotency-Key must be 1 to 255 visible ASCII characters" });
    }
    const credential = String(requestContext(res).credential ?? "none");
    const hash = requestHash(req);
    try {
      const stored = await store.get(credential, key);
      if (stored) {
        if (stored.requestHash !== hash) {
          return sendScimError(res, { status: 422, detail: "This Idempotency-Key was already used for a different request" });
        }
        if (stored.location) res.location(stored.location);
        res.set("Idempotency-Replayed", "true");
        res.status(stored.status).type("application/scim+json").send(stored.body);
        return;
      }
    } catch (err) {
      return next(err);
    }
    onAnswer(res, async ({ status, body }) => {
      if (status !== 201 || body === undefined) return;
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const location = (body as { meta?: { location?: unknown } })?.meta?.location;
      // Persist before answering, so a retry that races the answer still finds the key.
      await store
        .put({ credential, key, requestHash: hash, status: 201, location: typeof location === "string" ? location : null, body: text })
        .catch((err) => logger.warn("could not keep the Idempotency-Key response", { error: (err as Error).message }));
    });
    next();
  };
}
