// Each tenant's SCIM surface is mounted at its own path (/t/{tenant}/scim/v2; the default tenant at /scim/v2 too),
// but SCIMMY keeps one base path for the whole process, set by whichever request came last (scimmy-routers sets it
// per request, then awaits the handler). Under concurrent requests of two mounts an answer could name the other
// mount's URL — another tenant's. This step rewrites every location in the answer to the request's own mount.
import type { NextFunction, Request, Response } from "express";
import { onAnswer } from "./response-steps";

const SCIM_ROOT = "/scim/v2";

/** `location` re-rooted at `base` when it is a URL of any SCIM mount of this bridge; else as it was. */
function rebase(location: string, publicBaseUrl: string, base: string): string {
  if (!location.startsWith(publicBaseUrl)) return location;
  const rest = location.slice(publicBaseUrl.length);
  const at = rest.indexOf(SCIM_ROOT);
  // Only /scim/v2 itself or /t/{tenant}/scim/v2 may precede the resource path.
  if (at < 0 || !/^(\/t\/[^/]+)?$/.test(rest.slice(0, at))) return location;
  return base + rest.slice(at + SCIM_ROOT.length);
}

function rewrite(value: unknown, fix: (location: string) => string, depth = 0): void {
  if (depth > 6 || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) rewrite(item, fix, depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  const meta = record.meta as Record<string, unknown> | undefined;
  if (meta && typeof meta === "object" && typeof meta.location === "string") meta.location = fix(meta.location);
  // A Bulk answer's operations carry their own location.
  if (typeof record.location === "string" && "method" in record) record.location = fix(record.location);
  for (const key of ["Resources", "Operations"]) if (key in record) rewrite(record[key], fix, depth + 1);
}

/** Whether `text` names a SCIM mount of this bridge other than `base`. */
function foreignMount(text: string, root: string, base: string): boolean {
  for (let at = text.indexOf(root); at >= 0; at = text.indexOf(root, at + 1)) {
    if (!text.startsWith(base + "/", at) && !text.startsWith(base + '"', at)) return true;
  }
  return false;
}

export function ownLocations(publicBaseUrl: string) {
  const root = publicBaseUrl.replace(/\/+$/, "");
  return (req: Request, res: Response, next: NextFunction): void => {
    const base = root + req.baseUrl;
    const fix = (location: string) => rebase(location, root, base);
    onAnswer(res, (answer) => {
      const body = answer.body;
      const text = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : body && typeof body === "object" ? JSON.stringify(body) : "";
      // Most answers already name only this mount: nothing to copy.
      if (text && foreignMount(text, root, base)) {
        // A copy: SCIMMY's answers are schema instances whose attributes may refuse assignment.
        let copy: unknown;
        try {
          copy = JSON.parse(text);
        } catch {
          return;
        }
        rewrite(copy, fix);
        answer.body = typeof body === "object" && !Buffer.isBuffer(body) ? copy : JSON.stringify(copy);
      }
      const header = res.getHeader("Location");
      if (typeof header === "string" && !res.headersSent) res.setHeader("Location", fix(header));
    });
    next();
  };
}
