import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express, Request } from "express";
import type { BulkTransport, Dispatch, SubResponse } from "../scim/bulk";
import { traceparentFor } from "../log/trace-context";
import { requestContext } from "./request-context";
import { textEquals } from "./secure-compare";

/** Headers of the Bulk request each of its operations carries: the same credential, IdP and client. */
const INHERITED = ["authorization", "user-agent", "adscimversion"];

export interface LoopbackDispatch extends BulkTransport {
  close(): Promise<void>;
}

/** Marks a request as a Bulk operation; its value is a secret of this process, so no client can send it. */
const MARKER = "x-bridge-bulk-operation";

/**
 * Carries out a Bulk operation as the single request it stands for, through the whole app: the operation is
 * authenticated, normalised, checked, audited, logged and counted exactly like a request of its own. Sent over
 * a loopback listener of the same app (127.0.0.1, an ephemeral port, opened on the first Bulk request), because
 * Express cannot be driven in-process without real request and response objects.
 */
export function loopbackDispatch(app: Express): LoopbackDispatch {
  let listening: Promise<{ server: http.Server; port: number }> | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let sequence = 0;
  const secret = randomBytes(24).toString("hex");

  const listener = () =>
    (listening ??= new Promise((resolve, reject) => {
      const server = http.createServer(app);
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port }));
    }));

  // The Bulk request's own mount (/t/{tenant}/scim/v2 or /scim/v2): an operation runs in the Bulk request's tenant.
  const mountOf = (parent: Request) => (/^(\/t\/[^/]+)?\/scim\/v2$/.test(parent.baseUrl) ? parent.baseUrl : "/scim/v2");
  const dispatch: Dispatch = async (parent: Request, sub) => {
    const { port } = await listener();
    const headers: Record<string, string> = { "content-type": "application/scim+json", accept: "application/scim+json" };
    for (const name of INHERITED) {
      const value = parent.get(name);
      if (value !== undefined) headers[name] = value;
    }
    if (sub.ifMatch !== undefined) headers["if-match"] = sub.ifMatch;
    headers[MARKER] = secret;
    // The Bulk request's id with the operation's number, so the log and audit tie each operation to its Bulk request.
    headers["x-request-id"] = `${(parent.res ? requestContext(parent.res).requestId : "bulk").slice(0, 80)}.${++sequence}`;
    // And the Bulk request's trace, so each operation's request line and DigiCert calls carry its trace id.
    if (parent.res) headers.traceparent = traceparentFor(requestContext(parent.res).trace);
    const payload = sub.body === undefined ? undefined : JSON.stringify(sub.body);
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
    return new Promise<SubResponse>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: sub.method, path: `${mountOf(parent)}${sub.path}`, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 500, headers: res.headers, body });
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  };

  return {
    dispatch,
    isOperation: (req) => {
      const value = req.get(MARKER);
      return value !== undefined && textEquals(value, secret);
    },
    async close() {
      agent.destroy();
      if (!listening) return;
      const { server } = await listening;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
