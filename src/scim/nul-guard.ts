import type { NextFunction, Request, Response } from "express";
import { sendScimError } from "./errors";

// NUL characters have no meaning in any SCIM value, and PostgreSQL cannot store or compare them (text and jsonb
// refuse \u0000): without this guard the same request would work on SQLite and fail as a 500 on PostgreSQL.

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (depth > 32 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  return Object.entries(value as Record<string, unknown>).some(([k, v]) => k.includes("\u0000") || hasNul(v, depth + 1));
}

export function rejectNul(req: Request, res: Response, next: NextFunction): void {
  if (req.path.includes("\u0000") || decodeURIComponentSafe(req.path).includes("\u0000")) {
    return sendScimError(res, { status: 404, detail: "Resource not found" });
  }
  if (hasNul(req.query) || hasNul(req.body)) {
    return sendScimError(res, { status: 400, scimType: "invalidValue", detail: "Values may not contain NUL (\\u0000) characters" });
  }
  next();
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
