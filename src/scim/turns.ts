import type { NextFunction, Request, Response } from "express";

/**
 * One turn at a time per key, first come first served, within this process: concurrent PATCHes of one user queue
 * here instead of each reading the same version and all but one losing the compare-and-set (which, with twenty of
 * them, outran any retry budget). Replicas still race each other; the PATCH retry handles those few.
 */
export class KeyedTurns {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves when it is this caller's turn, with the function that ends it (safe to call more than once). */
  async take(key: string): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      end();
      // The last in line clears the key, so the map holds only keys with someone waiting or working.
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    };
  }

  /** Keys with a turn taken or waited for (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

/**
 * Express side of KeyedTurns for `/:resource/:id` writes: `take` waits for the id's turn (ended when the answer is
 * sent or the connection closes, whichever comes first), `endOf` gives a later handler the function that ends it
 * early, once its write is committed.
 */
export function turnsById() {
  const turns = new KeyedTurns();
  const ends = new WeakMap<Response, () => void>();
  return {
    turns,
    take: async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const end = await turns.take(req.params.id);
      ends.set(res, end);
      res.once("finish", end);
      res.once("close", end);
      next();
    },
    endOf: (res: Response): (() => void) => ends.get(res) ?? (() => undefined),
  };
}
