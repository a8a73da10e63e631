import type { NextFunction, Request, Response } from "express";
import { requestContext } from "../http/request-context";
import type { ScimResources } from "./resource-types";

/**
 * Takes a list's or a search's filter off the request before scimmy-routers hands it to SCIMMY, and keeps its text
 * in the request context (`filter`) for the resource's read (filter-parser.ts): SCIMMY parses a filter when it
 * builds the resource, and its parser refuses an escaped quote (`userName eq "a\"b"`), a legal compValue (RFC 7644
 * §3.4.2.2: a JSON string). The bridge's parser is then the one that decides, for GET lists and POST /.search alike.
 * Only a non-empty string is taken: anything else (a repeated parameter, a non-string) still meets SCIMMY's checks.
 */
export function filterHandoff(resources: ScimResources) {
  const search = new RegExp(`^(?:/(?:${resources.segments}))?/\\.search/?$`);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === "GET" && resources.resourcePath(req.path)?.id === null) {
      const filter = req.query.filter;
      if (typeof filter === "string" && filter.trim() !== "") {
        requestContext(res).filter = filter;
        delete req.query.filter;
      }
    } else if (req.method === "POST" && search.test(req.path) && req.body && typeof req.body === "object" && !Array.isArray(req.body)) {
      const { filter, ...rest } = req.body as Record<string, unknown>;
      if (typeof filter === "string" && filter.trim() !== "") {
        requestContext(res).filter = filter;
        req.body = rest;
      }
    }
    next();
  };
}
