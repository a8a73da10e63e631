import type { Response } from "express";
import { requestContext } from "../http/request-context";

// The one place the SCIM surface looks at an answer before it is written: the Location header of a 201, the kept
// answer of an Idempotency-Key, the attributes= cut, the Role type in /ResourceTypes, the body of a refused write
// for the audit trail. Each concern registers a step for the request it applies to; the response is intercepted
// once, when the first step is registered.

/** An answer on its way out: steps may replace the body or set headers (on `res`) before it is written. */
export interface Answer {
  readonly status: number;
  body: unknown;
}

/** A step may be async: the answer is written once it is done (an Idempotency-Key is kept before answering). */
export type ResponseStep = (answer: Answer, res: Response) => void | Promise<void>;

/**
 * Registers a step for this request's answer. Steps run nearest-the-handler first: one registered later (by a
 * middleware closer to the handler) sees the answer before one registered earlier, as nested wrappers would.
 */
export function onAnswer(res: Response, step: ResponseStep): void {
  const ctx = requestContext(res);
  if (!ctx.responseSteps) {
    ctx.responseSteps = [];
    intercept(res, ctx.responseSteps);
  }
  ctx.responseSteps.unshift(step);
}

function intercept(res: Response, steps: ResponseStep[]): void {
  const send = res.send.bind(res);
  let answered = false;
  res.send = ((body?: unknown) => {
    // Express's send of an object sends again with its JSON: the steps see the answer once, as the handler gave it.
    if (answered) return send(body);
    answered = true;
    const answer: Answer = { status: res.statusCode, body };
    const pending = runSteps(steps, answer, res);
    if (!pending) return send(answer.body);
    // A step that fails still lets the answer out (steps report their own failures).
    void pending.catch(() => undefined).then(() => send(answer.body));
    return res;
  }) as Response["send"];
}

/** Runs the steps in order; synchronously while they are, so an answer with no async step is written at once. */
function runSteps(steps: ResponseStep[], answer: Answer, res: Response, from = 0): Promise<void> | undefined {
  for (let i = from; i < steps.length; i++) {
    const result = steps[i](answer, res);
    if (result instanceof Promise) return result.then(() => runSteps(steps, answer, res, i + 1));
  }
  return undefined;
}
