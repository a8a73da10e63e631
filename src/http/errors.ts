import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log/logger";
import { requestContext } from "./request-context";
import { failureOf, sendScimError } from "../scim/errors";

/**
 * The last error handler. Mandatory with scimmy-routers: without it a 5xx destroys the keep-alive socket, and
 * 429/502/503 (which SCIMMY cannot render) would become an HTML stack page. Failures of our handlers arrive here as
 * ScimResponseError (scim/errors.ts), whatever their status: this is where they are rendered.
 */
export function errorHandler(logger: Logger) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      if ((res.statusCode ?? 500) >= 500) logger.debug("error after response was sent", { requestId: requestContext(res).requestId, error: err });
      return;
    }
    const failure = failureOf(err);
    if (failure.internal) {
      logger.error("unhandled error", { requestId: requestContext(res).requestId, path: req.path, error: err, stack: (err as Error)?.stack });
    }
    sendScimError(res, failure);
  };
}

/** JSON 404 for paths outside the SCIM router (which answers its own unknown paths). */
export function notFound(_req: Request, res: Response): void {
  sendScimError(res, { status: 404, detail: "Endpoint not found" });
}
