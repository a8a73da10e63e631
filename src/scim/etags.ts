// ETags (RFC 7644 §3.14): every User and Group answer carries its meta.version as the ETag header, a GET with a
// matching If-None-Match is 304, and a PUT, PATCH or DELETE whose If-Match names another version is 412, so an
// IdP that read a resource can change it only if nobody changed it since.
import type { NextFunction, Request, Response } from "express";
import type { ScimServices } from "./context";
import type { ScimResources } from "./resource-types";
import { requestContext } from "../http/request-context";
import { failureOf, sendScimError } from "./errors";
import { onAnswer } from "./response-steps";

/** The version in an entity tag, weak or strong (W/"3", "3"); null for anything else. */
function versionOf(tag: string): number | null {
  const m = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(tag);
  return m ? Number(m[1]) : null;
}

/** The tags of an If-Match / If-None-Match header: "*" or a comma-separated list (commas inside quotes kept). */
function tagsOf(header: string): "*" | string[] {
  if (header.trim() === "*") return "*";
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** Adds the ETag header to single-resource answers (a list has no version of its own). */
export function etagHeader(_req: Request, res: Response, next: NextFunction): void {
  onAnswer(res, ({ status, body }) => {
    const parsed = typeof body === "string" ? safeJson(body) : body;
    const version = (parsed as { meta?: { version?: unknown } } | undefined)?.meta?.version;
    if (typeof version === "string" && versionOf(version) !== null && !res.headersSent && status < 300) res.setHeader("ETag", version);
  });
  next();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Preconditions on every resource (/Users/:id, /Groups/:id), checked against the stored version (never DigiCert). A missing
 * resource is left to the handler's 404. The version also goes with the change into the transaction that writes it
 * (a user PATCH: into the read it applies to), so a change landing between this check and the write is refused
 * rather than overwritten.
 */
export function preconditions(services: ScimServices, resources: ScimResources) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ifMatch = req.get("If-Match");
    const ifNoneMatch = req.get("If-None-Match");
    const reading = req.method === "GET" || req.method === "HEAD";
    if ((reading && !ifNoneMatch) || (!reading && !ifMatch)) return next();
    const type = resources.bySegment(req.params.resource);
    if (!type) return next();
    let current: number;
    try {
      current = await type.storedVersion(services, req.params.id);
    } catch (err) {
      // Not found (or unreadable): the handler answers it as it would without the header.
      if (failureOf(err).status === 404) return next();
      return sendScimError(res, failureOf(err));
    }
    const etag = `W/"${current}"`;
    if (reading) {
      const tags = tagsOf(ifNoneMatch!);
      if (tags === "*" || tags.some((t) => versionOf(t) === current)) {
        res.setHeader("ETag", etag);
        res.status(304).end();
        return;
      }
      return next();
    }
    const tags = tagsOf(ifMatch!);
    if (tags !== "*" && !tags.some((t) => versionOf(t) === current)) {
      res.setHeader("ETag", etag);
      return sendScimError(res, { status: 412, detail: `The resource changed since it was read: its version is now ${etag} (If-Match: ${ifMatch})` });
    }
    if (tags !== "*") requestContext(res).ifMatchVersion = current;
    next();
  };
}
