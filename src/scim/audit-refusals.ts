// Records every SCIM write the bridge refused (answered >= 400: invalid input, 404, 409, back-pressure 429, a
// DigiCert refusal after rollback, …) in the audit trail, with what the request tried to change (secrets masked).
// Installed first on the SCIM router (behind authentication), so a body that does not even parse is recorded too.
// Unauthenticated requests (401) never reach it: they have no credential to name, and must not fill the trail.
import type { NextFunction, Request, Response } from "express";
import { requestContext } from "../http/request-context";
import { safeChanges } from "../provisioning/audit";
import type { ScimResources } from "./resource-types";
import { onAnswer } from "./response-steps";
import type { AuditChange, NewAuditEntry } from "../provisioning/records";

export interface RefusalAudit {
  /** Told when a refusal could not be recorded (logged; the request was answered already). */
  failed?(err: unknown): void;
  /** Stores and logs the entries; must not throw. */
  record(entries: NewAuditEntry[]): Promise<void>;
  /** The userName of a stored user, or null (no such user). */
  userNameOf(id: string): Promise<string | null>;
}

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const ACTIONS: Record<string, string> = { POST: "create", PUT: "replace", PATCH: "patch", DELETE: "delete" };

/** What a refused request tried: the attributes of a POST or PUT, the operations of a PATCH. */
function attempted(method: string, body: unknown): AuditChange[] {
  if (!body || typeof body !== "object") return [];
  const b = body as Record<string, unknown>;
  if (method === "PATCH") {
    const ops = Array.isArray(b.Operations) ? b.Operations : [];
    return ops.map((o: unknown) => {
      // Anything may arrive here (a refused PATCH is often refused because it is malformed).
      const op = (o !== null && typeof o === "object" && !Array.isArray(o) ? o : {}) as Record<string, unknown>;
      const name = String(op.op ?? "").toLowerCase();
      const change: AuditChange = { path: typeof op.path === "string" && op.path ? op.path : "(resource)" };
      if (name === "add" || name === "remove" || name === "replace") change.op = name;
      if ("value" in op) change.after = op.value;
      return change;
    });
  }
  if (method === "POST" || method === "PUT") {
    return Object.entries(b)
      .filter(([k]) => k !== "schemas" && k !== "meta" && k !== "id")
      .map(([path, after]) => ({ path, after }));
  }
  return [];
}

function failureOfBody(body: unknown): { detail: string | null } {
  let parsed = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      return { detail: null };
    }
  }
  const detail = (parsed as { detail?: unknown } | null)?.detail;
  return { detail: typeof detail === "string" ? detail : null };
}

/** A path segment that is not valid percent-encoding is kept as sent (Express answers it 400 later). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function auditRefusals(audit: RefusalAudit, resources: ScimResources) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!WRITES.has(req.method)) return next();
    const target = resources.resourcePath(req.path);
    // POST /Users/.search is a read.
    if (!target || target.id?.startsWith(".")) return next();
    const resourceType = target.type.name;
    const id = target.id ? safeDecode(target.id) : null;
    let sentBody: unknown;
    onAnswer(res, ({ status, body }) => {
      if (status >= 400) sentBody = body;
    });
    res.on("finish", () => {
      if (res.statusCode < 400) return;
      // Recording a refusal must never fail the process: an unhandled rejection would end it.
      void (async () => {
        const body = req.body as Record<string, unknown> | undefined;
        let userName: string | null = null;
        if (resourceType === "User") {
          if ((req.method === "POST" || req.method === "PUT") && typeof body?.userName === "string") userName = body.userName;
          else if (id) userName = await audit.userNameOf(id).catch(() => null);
        }
        await audit.record([
          {
            kind: "scim",
            action: `${resourceType.toLowerCase()}.${ACTIONS[req.method]}`,
            outcome: "refused",
            actor: requestContext(res).credential ?? null,
            idp: requestContext(res).idp ?? null,
            requestId: requestContext(res).requestId ?? null,
            resourceType,
            resourceId: id,
            userName,
            changes: safeChanges(attempted(req.method, body)),
            status: res.statusCode,
            detail: failureOfBody(sentBody).detail,
          },
        ]);
      })().catch((err) => audit.failed?.(err));
    });
    next();
  };
}
