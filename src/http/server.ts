// The HTTP server around the app, with the limits a hostile client meets before Express sees anything: bounded
// time for headers and for the whole request (slow-loris), and SCIM-shaped answers for requests Node's parser
// refuses itself (oversize headers or URL, malformed request line), instead of Node's bare 400/431.
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import type { Express } from "express";

export interface ServerLimits {
  /** Time allowed to receive the request headers. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request (headers and body). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

const REASONS: Record<number, string> = {
  400: "The request could not be parsed",
  408: "The request took too long to arrive",
  413: "Request body is too large",
  414: "The request URL is too long",
  431: "The request headers (or URL) are too large",
};

function scimErrorResponse(status: number): string {
  const body = JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), detail: REASONS[status] ?? "Bad request" });
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Bad Request"}\r\n` +
    "Content-Type: application/scim+json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

/** Maps the parser's refusal codes to the status the client should see. */
function statusOf(err: NodeJS.ErrnoException): number {
  if (err.code === "HPE_HEADER_OVERFLOW") return 431;
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ETIMEDOUT") return 408;
  return 400;
}

/** HTTP, or HTTPS when `tls` holds a PEM certificate and key (TLS_CERT_FILE/TLS_KEY_FILE). */
export function createHttpServer(app: Express | http.RequestListener, limits: ServerLimits = DEFAULT_LIMITS, tls?: { cert: string; key: string }): http.Server {
  // Node enforces the timeouts on a sweep (every 30 s by default), which would let a slow client hold a socket
  // far longer than headersTimeout: sweep often enough for the limits to mean what they say.
  const options = { connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(limits.headersTimeoutMs / 2))) };
  const server: http.Server = tls
    ? https.createServer({ ...options, cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" }, app)
    : http.createServer(options, app);
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or a socket already answered: nothing to say.
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(scimErrorResponse(statusOf(err)));
  });
  return server;
}
