import { SCIMMY } from "scimmy-routers";
import type { Page } from "../provisioning/queries";
import type { ScimContext } from "./context";
import { failureOf, ScimResponseError } from "./errors";

/** Runs a handler body; any non-SCIM failure is mapped in one place (scim/errors.ts) and never leaks. */
export async function guarded<T>(ctx: ScimContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SCIMMY.Types.Error) throw err;
    const failure = failureOf(err);
    if (failure.internal) ctx.logger.error("unhandled error in SCIM handler", { requestId: ctx.request.requestId, error: err, stack: (err as Error)?.stack });
    throw new ScimResponseError(failure);
  }
}

/**
 * SCIMMY sometimes fails on input it did not foresee with an exception of its own (a TypeError deep in filter or
 * schema coercion; the fuzz suite finds them). scimmy-routers would answer those 500 with the internal message.
 * The input is what is wrong: answer 400, without SCIMMY's internals. Our handlers' failures are already SCIM errors.
 */
export function asScimInputError(err: unknown): unknown {
  if (err instanceof SCIMMY.Types.Error) return err;
  return new SCIMMY.Types.Error(400, "invalidValue", "The request could not be understood: a value, path or filter has an unexpected shape");
}

/** Runs one of SCIMMY's resource operations, turning its unforeseen exceptions into 400s (see asScimInputError). */
export async function hardened<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw asScimInputError(err);
  }
}

type ResourceClass = new (...args: any[]) => {
  write(instance: any, ctx?: any): Promise<any>;
  patch(message: any, ctx?: any): Promise<any>;
  dispose(ctx?: any): Promise<any>;
};

/**
 * A SCIMMY resource class whose query parsing (in the constructor, outside any handler) and write, patch and
 * dispose turn SCIMMY's unforeseen exceptions into 400s (see asScimInputError). Reads are the subclass's own.
 */
export function hardenedResource<B extends ResourceClass>(Base: B) {
  return class extends Base {
    constructor(...args: any[]) {
      try {
        super(...args);
      } catch (err) {
        throw asScimInputError(err);
      }
    }

    override write(instance: any, ctx?: any): Promise<any> {
      return hardened(() => super.write(instance, ctx));
    }

    override patch(message: any, ctx?: any): Promise<any> {
      return hardened(() => super.patch(message, ctx));
    }

    override dispose(ctx?: any): Promise<any> {
      return hardened(() => super.dispose(ctx));
    }
  };
}

/** startIndex/count as the store pages them: startIndex below 1 counts as 1, count capped at maxResults. */
export function pageOf(constraints: { startIndex?: unknown; count?: unknown } | undefined, maxResults: number): Page & { startIndex: number } {
  const { startIndex: rawStart, count: rawCount } = constraints ?? {};
  const startIndex = Math.max(1, Number.isInteger(rawStart) ? (rawStart as number) : 1);
  // filter.maxResults is advertised but not enforced by SCIMMY: cap count here.
  const limit = Math.min(Math.max(0, Number.isInteger(rawCount) ? (rawCount as number) : maxResults), maxResults);
  return { startIndex, offset: startIndex - 1, limit };
}

/**
 * SCIMMY's list read builds its ListResponse from whatever egress returns, so paging in the store loses items
 * and totalResults (notes/scimmy.md §4). Lists are built here from an already-paged store result instead.
 */
export function listResponse(resources: unknown[], total: number, page: { startIndex: number; limit: number }) {
  const list = new SCIMMY.Messages.ListResponse(resources as never[], { totalResults: total, count: page.limit, startIndex: 1 });
  list.startIndex = page.startIndex;
  list.itemsPerPage = list.Resources.length;
  return list;
}
