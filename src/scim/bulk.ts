// SCIM Bulk (RFC 7644 §3.7). Each operation is carried out as the single request it stands for, through the same
// handlers (normalisation, preconditions, services, outbox, audit), so a Bulk can do nothing a plain request could
// not. What is Bulk's own lives here: validating the message, resolving bulkId references between operations
// (creating a resource before the ones that name it, breaking a reference cycle with a create and a later PATCH),
// failOnErrors and the BulkResponse.
import type { Request, Response } from "express";
import { errorBody, sendScimError, type ScimFailure } from "./errors";
import type { ScimResources } from "./resource-types";

export const BULK_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
export const BULK_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/** One operation as a plain SCIM request below /scim/v2. */
export interface SubRequest {
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  ifMatch?: string;
}

export interface SubResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: unknown;
}

/** Carries out one operation for the Bulk request `parent` (its credential, client address and IdP). */
export type Dispatch = (parent: Request, sub: SubRequest) => Promise<SubResponse>;

/** How operations are sent and, on arrival, told from requests of their own. */
export interface BulkTransport {
  dispatch: Dispatch;
  /** True for a request that is one of a Bulk request's operations (made by `dispatch`, not forgeable). */
  isOperation(req: Request): boolean;
}

export interface BulkOptions {
  maxOperations: number;
  /** The public SCIM base URL (…/scim/v2). */
  base: string;
  dispatch: Dispatch;
  /** The resource types an operation may name. */
  resources: ScimResources;
}

interface BulkOperation {
  method: string;
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

export interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const REFERENCE = /^bulkId:(.+)$/;

class OperationError extends Error {
  constructor(readonly failure: ScimFailure) {
    super(failure.detail);
  }
}

const invalid = (detail: string, scimType = "invalidValue") => new OperationError({ status: 400, scimType, detail });

/** The bulkIds a value names (`"bulkId:x"` strings anywhere in it). */
function referencesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    const m = REFERENCE.exec(value);
    if (m) into.add(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) referencesIn(v, into);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) referencesIn(v, into);
  }
  return into;
}

/** `value` with every `"bulkId:x"` replaced by x's resource id. */
function resolved(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === "string") {
    const m = REFERENCE.exec(value);
    return m && ids.has(m[1]) ? ids.get(m[1]) : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolved(v, ids));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v, ids)]));
  return value;
}

/** A BulkRequest's shape, checked before anything is done: a malformed message changes nothing. */
function operationsOf(body: unknown, maxOperations: number): { operations: BulkOperation[]; failOnErrors?: number } {
  const message = body as { schemas?: unknown; Operations?: unknown; failOnErrors?: unknown } | undefined;
  if (!message || typeof message !== "object" || Array.isArray(message)) throw invalid("A BulkRequest must be a JSON object", "invalidSyntax");
  if (!Array.isArray(message.schemas) || !message.schemas.includes(BULK_REQUEST_URN)) {
    throw invalid(`A BulkRequest must name the schema ${BULK_REQUEST_URN}`, "invalidSyntax");
  }
  const { failOnErrors } = message;
  if (failOnErrors !== undefined && !(Number.isInteger(failOnErrors) && (failOnErrors as number) > 0)) {
    throw invalid("failOnErrors must be a positive integer", "invalidSyntax");
  }
  if (!Array.isArray(message.Operations) || message.Operations.length === 0) {
    throw invalid("A BulkRequest needs a non-empty Operations list", "invalidSyntax");
  }
  if (message.Operations.length > maxOperations) {
    throw new OperationError({
      status: 413,
      detail: `The BulkRequest has ${message.Operations.length} operations; at most ${maxOperations} (maxOperations) are accepted`,
    });
  }
  return { operations: message.Operations as BulkOperation[], failOnErrors: failOnErrors as number | undefined };
}

interface Pending {
  index: number;
  op: BulkOperation;
  /** bulkIds this operation names (in its path or data); it runs once each is created or has failed. */
  waitsFor: Set<string>;
  /** Found when the request was checked; answered in the operation's turn. */
  error?: unknown;
  /** A create made without its references to break a cycle; the rest follows as a PATCH. */
  deferred?: { id: string; location?: string; version?: string; patch: Record<string, unknown> };
}

/** One Bulk request being carried out. */
class BulkRun {
  private readonly results: (BulkResult | undefined)[];
  private readonly ids = new Map<string, string>();
  private readonly failedIds = new Set<string>();
  private readonly declared = new Map<string, number>();
  private errors = 0;
  private readonly resourcePath: RegExp;

  constructor(
    private readonly parent: Request,
    private readonly operations: BulkOperation[],
    private readonly failOnErrors: number | undefined,
    private readonly dispatch: Dispatch,
    /** The SCIM base URL (…/scim/v2), for the location of an operation whose answer names none. */
    private readonly base: string,
    private readonly resources: ScimResources,
  ) {
    this.results = new Array(operations.length);
    this.resourcePath = new RegExp(`^/(${resources.segments})(?:/([^/?#]+))?$`);
  }

  async run(): Promise<BulkResult[]> {
    // Checked up front, so that a bulkId a later POST declares can be named earlier; failed in their turn, so that
    // failOnErrors counts errors in the client's order.
    const checked = this.operations.map((op, index) => {
      try {
        this.check(op, index);
        return null;
      } catch (err) {
        return err;
      }
    });
    const pending: Pending[] = this.operations.map((op, index) => {
      if (checked[index]) return { index, op, waitsFor: new Set<string>(), error: checked[index] };
      try {
        return { index, op, waitsFor: this.referencesOf(op) };
      } catch (err) {
        return { index, op, waitsFor: new Set<string>(), error: err };
      }
    });
    // In the client's order, except that an operation naming a bulkId waits for the POST that creates it.
    while (pending.length && !this.stopped()) {
      const ready = pending.findIndex((p) => p.error || [...p.waitsFor].every((id) => this.ids.has(id) || this.failedIds.has(id)));
      if (ready >= 0) {
        const [next] = pending.splice(ready, 1);
        if (next.error) this.fail(next, next.error);
        else await this.carryOut(next);
        continue;
      }
      // Every operation left waits for another one: a cycle. Create the first POST without its references, so the
      // others can name it, and give it the references as a PATCH once they can be resolved.
      const cyclic = pending.find((p) => p.op.method.toUpperCase() === "POST" && !p.deferred);
      if (!cyclic) {
        for (const p of pending.splice(0)) this.fail(p, invalid("The operation names a bulkId that no operation of this request can create"));
        break;
      }
      await this.createWithoutReferences(cyclic);
      if (!cyclic.deferred) pending.splice(pending.indexOf(cyclic), 1);
    }
    return this.results.filter((r): r is BulkResult => r !== undefined);
  }

  private stopped(): boolean {
    return this.failOnErrors !== undefined && this.errors >= this.failOnErrors;
  }

  private check(op: BulkOperation, index: number): void {
    if (!op || typeof op !== "object" || Array.isArray(op)) throw invalid(`Operation ${index + 1} is not an object`, "invalidSyntax");
    const method = typeof op.method === "string" ? op.method.toUpperCase() : "";
    if (!METHODS.has(method)) throw invalid(`Operation ${index + 1}: method must be POST, PUT, PATCH or DELETE`, "invalidSyntax");
    if (typeof op.path !== "string") throw invalid(`Operation ${index + 1}: path is required`, "invalidSyntax");
    const m = this.resourcePath.exec(op.path);
    if (!m) throw invalid(`Operation ${index + 1}: path must be ${this.resources.all.map((r) => `/${r.segment}`).join(", ")} or one of their resources, not ${JSON.stringify(op.path).slice(0, 100)}`, "invalidPath");
    if (method === "POST") {
      if (m[2]) throw invalid(`Operation ${index + 1}: a POST names the resource type only (/${m[1]})`, "invalidPath");
      if (typeof op.bulkId !== "string" || !op.bulkId) throw invalid(`Operation ${index + 1}: a POST needs a bulkId`, "invalidSyntax");
      if (this.declared.has(op.bulkId) && this.declared.get(op.bulkId) !== index) throw invalid(`Operation ${index + 1}: bulkId ${op.bulkId} is already used by operation ${this.declared.get(op.bulkId)! + 1}`, "uniqueness");
      if (!this.declared.has(op.bulkId)) this.declared.set(op.bulkId, index);
    } else if (!m[2]) {
      throw invalid(`Operation ${index + 1}: a ${method} names one resource (/${m[1]}/{id})`, "invalidPath");
    }
    if (method !== "DELETE" && (!op.data || typeof op.data !== "object" || Array.isArray(op.data))) {
      throw invalid(`Operation ${index + 1}: data must be an object`, "invalidSyntax");
    }
    if (op.version !== undefined && typeof op.version !== "string") throw invalid(`Operation ${index + 1}: version must be a string`, "invalidSyntax");
  }

  /** The bulkIds an operation names in its path or data; each must be declared by a POST of this request. */
  private referencesOf(op: BulkOperation): Set<string> {
    const names = referencesIn(op.data);
    referencesIn(decodeURIComponentSafe(op.path.split("/")[2] ?? ""), names);
    for (const id of names) {
      if (!this.declared.has(id)) throw invalid(`bulkId ${id} is named but no POST operation of this request declares it`);
    }
    return names;
  }

  private async carryOut(p: Pending): Promise<void> {
    const { op, index } = p;
    const method = op.method.toUpperCase() as SubRequest["method"];
    const failedRef = [...p.waitsFor].find((id) => this.failedIds.has(id));
    if (failedRef) {
      this.fail(p, new OperationError({ status: 409, scimType: "invalidValue", detail: `bulkId ${failedRef} names an operation of this request that failed` }));
      return;
    }
    try {
      if (p.deferred) {
        const answer = await this.send({ method: "PATCH", path: `${op.path}/${encodeURIComponent(p.deferred.id)}`, body: resolved(patchOf(p.deferred.patch), this.ids) });
        this.succeed(index, op, 201, p.deferred.location, versionOf(answer) ?? p.deferred.version);
        return;
      }
      const path = resolved(op.path.split("/").map((s, i) => (i === 2 ? decodeURIComponentSafe(s) : s)), this.ids) as string[];
      const answer = await this.send({
        method,
        path: path.map((s, i) => (i === 2 ? encodeURIComponent(s) : s)).join("/"),
        body: method === "DELETE" ? undefined : resolved(op.data, this.ids),
        ifMatch: op.version,
      });
      if (method === "POST") this.created(op, answer);
      this.succeed(index, op, answer.status, locationOf(answer) ?? (method === "DELETE" ? undefined : `${this.base}${path.join("/")}`), versionOf(answer));
    } catch (err) {
      this.fail(p, err);
    }
  }

  /** A POST in a reference cycle: created without the attributes that name a bulkId, which follow as a PATCH. */
  private async createWithoutReferences(p: Pending): Promise<void> {
    const data = p.op.data as Record<string, unknown>;
    const now: Record<string, unknown> = {};
    const later: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) (referencesIn(v).size && k !== "schemas" ? later : now)[k] = v;
    try {
      const answer = await this.send({ method: "POST", path: p.op.path, body: now });
      const id = this.created(p.op, answer);
      p.deferred = { id, location: locationOf(answer), version: versionOf(answer), patch: later };
    } catch (err) {
      this.fail(p, err);
    }
  }

  private created(op: BulkOperation, answer: SubResponse): string {
    const id = (answer.body as { id?: unknown } | undefined)?.id;
    if (typeof id !== "string") throw new OperationError({ status: 500, detail: "The create answered without an id" });
    this.ids.set(op.bulkId!, id);
    return id;
  }

  /** Sends one operation; a SCIM error answer becomes an OperationError carrying it. */
  private async send(sub: SubRequest): Promise<SubResponse> {
    const answer = await this.dispatch(this.parent, sub);
    if (answer.status >= 400) throw new OperationError(failureFromAnswer(answer));
    return answer;
  }

  private succeed(index: number, op: BulkOperation, status: number, location?: string, version?: string): void {
    this.results[index] = {
      method: op.method.toUpperCase(),
      ...(op.bulkId && op.method.toUpperCase() === "POST" ? { bulkId: op.bulkId } : {}),
      ...(version ? { version } : {}),
      ...(location ? { location } : {}),
      status: String(status),
    };
  }

  /** Records a failed operation; a POST that failed makes every operation naming its bulkId fail too. */
  private fail(p: Pick<Pending, "index" | "op" | "deferred">, err: unknown): void {
    const { op, index } = p;
    const failure: ScimFailure =
      err instanceof OperationError ? err.failure : { status: 500, detail: "Internal error; the operation was not applied", internal: true };
    const method = typeof op?.method === "string" ? op.method.toUpperCase() : String(op?.method ?? "");
    const bulkId = method === "POST" && typeof op?.bulkId === "string" ? op.bulkId : undefined;
    if (bulkId && !this.ids.has(bulkId)) this.failedIds.add(bulkId);
    this.errors++;
    this.results[index] = {
      method,
      ...(bulkId ? { bulkId } : {}),
      // A cycle's create that succeeded before its references failed: the resource exists, so say where.
      ...(p.deferred?.location ? { location: p.deferred.location } : {}),
      status: String(failure.status),
      response: errorBody(failure),
    };
  }
}

function patchOf(attributes: Record<string, unknown>) {
  return {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: Object.entries(attributes).map(([path, value]) => ({ op: "replace", path, value })),
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function header(answer: SubResponse, name: string): string | undefined {
  const v = answer.headers[name];
  return typeof v === "string" ? v : undefined;
}

function versionOf(answer: SubResponse): string | undefined {
  return header(answer, "etag");
}

function locationOf(answer: SubResponse): string | undefined {
  const fromBody = (answer.body as { meta?: { location?: unknown } } | undefined)?.meta?.location;
  return header(answer, "location") ?? (typeof fromBody === "string" ? fromBody : undefined);
}

function failureFromAnswer(answer: SubResponse): ScimFailure {
  const body = answer.body as { scimType?: unknown; detail?: unknown } | undefined;
  const retry = Number(header(answer, "retry-after"));
  return {
    status: answer.status,
    ...(typeof body?.scimType === "string" ? { scimType: body.scimType } : {}),
    detail: typeof body?.detail === "string" ? body.detail : `The operation was answered ${answer.status}`,
    ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
  };
}

/** POST /Bulk. The body was parsed with the Bulk payload limit (maxPayloadSize) in front of this handler. */
export function bulkRoute(opts: BulkOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    let parsed: ReturnType<typeof operationsOf>;
    try {
      parsed = operationsOf(req.body, opts.maxOperations);
    } catch (err) {
      sendScimError(res, (err as OperationError).failure);
      return;
    }
    const results = await new BulkRun(req, parsed.operations, parsed.failOnErrors, opts.dispatch, opts.base, opts.resources).run();
    res.status(200).type("application/scim+json").send({ schemas: [BULK_RESPONSE_URN], Operations: results });
  };
}
