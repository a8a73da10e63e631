import type { NextFunction, Request, Response } from "express";
import type { BearerCredential } from "../config";
import { matchBearer } from "./auth";

/**
 * METRICS_TOKEN: GET /metrics needs one of its bearer tokens (digests compared in constant time against every
 * entry, like the SCIM tokens). SCIM credentials are not accepted here. Without tokens /metrics stays open.
 */
export function metricsAuth(tokens: BearerCredential[] | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!tokens || tokens.length === 0) return next();
    if (matchBearer(req.get("authorization"), tokens) !== null) return next();
    res
      .status(401)
      .set("WWW-Authenticate", 'Bearer realm="DigiCert SCIM Bridge metrics"')
      .type("text/plain")
      .send("401 Unauthorized: /metrics needs a bearer token from METRICS_TOKEN\n");
  };
}
