// The outbox contract every Store must honour (OutboxRepository, Store.transaction, UserRepository.setLink), run
// against each dialect by sqlite-store.test.ts and postgres-store.test.ts, like store-suite.ts.
import { randomUUID } from "node:crypto";
import type { JobError, NewOutboxJob, OutboxJob, OutboxKind, OutboxPayload, UserRow } from "../../../src/provisioning/records";
import type { Store } from "../../../src/provisioning/ports";
import { newUser } from "./store-suite";

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** A lease no test outlives. */
const LONG = 60_000;
/** A lease that runs out within a test, yet outlasts the few statements that must see it held. */
const SHORT = 300;
const FAR_FUTURE = "9999-12-31T23:59:59.999Z";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const idsOf = (jobs: OutboxJob[]) => jobs.map((j) => j.id);

export function describeOutboxSuite(label: string, open: () => Promise<Store>): void {
  describe(`Outbox contract: ${label}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      await store?.close();
    });

    beforeEach(async () => {
      // claim() and stats() see the whole table, so every test starts from an empty outbox (public API only):
      // failed → pending, every unfinished job → cancelled, then every finished job purged.
      await store.outbox.retryFailed();
      const unfinished = await store.outbox.list({ status: ["pending", "running"], limit: 1_000_000 });
      for (const userId of new Set(unfinished.map((j) => j.userId))) await store.outbox.cancelUnfinished(userId);
      await store.outbox.purgeFinishedBefore(FAR_FUTURE);
      expect(await store.outbox.list({ limit: 10 })).toEqual([]);
    });

    // --- helpers -------------------------------------------------------------------------------------------

    async function addUser(): Promise<UserRow> {
      return store.users.insert(newUser());
    }
    const job = (userId: string, kind: OutboxKind = "update", payload: OutboxPayload = {}): NewOutboxJob => ({ userId, kind, payload });
    async function one(id: number): Promise<OutboxJob> {
      const [j] = await store.outbox.get([id]);
      if (!j) throw new Error(`job ${id} is gone`);
      return j;
    }
    async function user(id: string): Promise<UserRow> {
      const u = await store.users.getById(id);
      if (!u) throw new Error(`user ${id} is gone`);
      return u;
    }
    /** Enqueues one job for a fresh user and claims it for `owner`. */
    async function runningJob(owner: string, leaseMs = LONG): Promise<{ u: UserRow; id: number }> {
      const u = await addUser();
      const [id] = await store.outbox.enqueue([job(u.id)]);
      const claimed = await store.outbox.claim(owner, 10, leaseMs);
      expect(idsOf(claimed)).toEqual([id]);
      return { u, id: id! };
    }
    async function failedJob(owner: string, error: JobError = { cause: { source: "digicert", kind: "validation" }, message: "refused" }) {
      const r = await runningJob(owner);
      expect(await store.outbox.fail(r.id, owner, error)).toBe(true);
      return r;
    }
    async function doneJob(owner: string) {
      const r = await runningJob(owner);
      expect(await store.outbox.complete(r.id, owner)).toBe(true);
      return r;
    }

    // --- enqueue -------------------------------------------------------------------------------------------

    describe("enqueue", () => {
      it("returns increasing ids and stores pending jobs as given, due at once", async () => {
        const a = await addUser();
        const b = await addUser();
        const before = new Date().toISOString();
        const payload: OutboxPayload = {
          userName: "Zoë Ünicode",
          profileChanged: true,
          version: 3,
          before: { userName: "zoe", externalId: "ext-1", active: true, resource: { name: { givenName: "Zoë" } }, emails: [{ value: "z@example.com", type: "work", primary: true }] },
        };
        const first = await store.outbox.enqueue([job(a.id, "create", payload), job(b.id, "roles"), job(a.id, "deactivate")]);
        const second = await store.outbox.enqueue([job(b.id, "reactivate")]);
        expect(first).toHaveLength(3);
        expect(second).toHaveLength(1);
        const all = [...first, ...second];
        for (let i = 1; i < all.length; i++) expect(all[i]!).toBeGreaterThan(all[i - 1]!);
        for (const id of all) expect(Number.isInteger(id)).toBe(true);

        const jobs = await store.outbox.get(all);
        expect(jobs.map((j) => [j.id, j.userId, j.kind])).toEqual([
          [first[0], a.id, "create"],
          [first[1], b.id, "roles"],
          [first[2], a.id, "deactivate"],
          [second[0], b.id, "reactivate"],
        ]);
        expect(jobs[0]!.payload).toEqual(payload);
        expect(jobs[1]!.payload).toEqual({});
        for (const j of jobs) {
          expect(j).toMatchObject({ status: "pending", attempts: 0, leaseOwner: null, leaseUntil: null, error: null, finished: null });
          expect(j.created).toMatch(ISO_MS);
          expect(j.updated).toBe(j.created);
          expect(j.runAfter).toMatch(ISO_MS);
          expect(j.runAfter >= before).toBe(true);
          expect(j.runAfter <= new Date().toISOString()).toBe(true);
        }
        // created orders jobs for people: a later enqueue is strictly later.
        expect(jobs[3]!.created > jobs[0]!.created).toBe(true);
      });

      it("marks the jobs' existing users pending and leaves other users alone", async () => {
        const a = await addUser();
        const b = await addUser();
        const bystander = await addUser();
        expect(a.syncState).toBe("synced");
        await store.outbox.enqueue([job(a.id), job(b.id), job(a.id)]);
        expect((await user(a.id)).syncState).toBe("pending");
        expect((await user(b.id)).syncState).toBe("pending");
        const untouched = await user(bystander.id);
        expect(untouched).toEqual(bystander);
        // The SCIM resource did not change: version and lastModified stay.
        expect(await user(a.id)).toMatchObject({ version: 1, lastModified: a.lastModified, syncError: null, syncedAt: null });
      });

      it("takes delete jobs for users that no longer exist", async () => {
        const gone = randomUUID();
        const [id] = await store.outbox.enqueue([job(gone, "delete", { userName: "gone@example.com", digicertId: "dc-77" })]);
        expect(await store.users.getById(gone)).toBeNull();
        expect(await one(id!)).toMatchObject({ userId: gone, kind: "delete", status: "pending", payload: { userName: "gone@example.com", digicertId: "dc-77" } });
        const claimed = await store.outbox.claim("w", 10, LONG);
        expect(idsOf(claimed)).toEqual([id]);
        expect(await store.outbox.complete(id!, "w")).toBe(true);
        expect((await one(id!)).status).toBe("done");
      });

      it("returns [] for nothing, and keeps order across the 500-row insert chunks", async () => {
        expect(await store.outbox.enqueue([])).toEqual([]);
        const users = [await addUser(), await addUser(), await addUser()];
        const batch = Array.from({ length: 1203 }, (_, i) => job(users[i % 3]!.id, "roles", { version: i }));
        const ids = await store.outbox.enqueue(batch);
        expect(ids).toHaveLength(1203);
        for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
        const jobs = await store.outbox.get(ids);
        expect(jobs.map((j) => [j.id, j.userId, j.payload.version])).toEqual(ids.map((id, i) => [id, users[i % 3]!.id, i]));
        for (const u of users) expect((await user(u.id)).syncState).toBe("pending");
      });
    });

    // --- claim ---------------------------------------------------------------------------------------------

    describe("claim", () => {
      it("gives only each user's earliest unfinished job; the next one after it completes or fails", async () => {
        const a = await addUser();
        const b = await addUser();
        const c = await addUser();
        const [a1, a2, b1, a3, c1] = await store.outbox.enqueue([job(a.id), job(a.id), job(b.id), job(a.id), job(c.id)]);

        const first = await store.outbox.claim("w1", 10, LONG);
        expect(idsOf(first)).toEqual([a1, b1, c1]);
        for (const j of first) expect(j).toMatchObject({ status: "running", leaseOwner: "w1", attempts: 1 });
        expect(await store.outbox.claim("w2", 10, LONG)).toEqual([]);
        expect((await one(a2!)).status).toBe("pending");

        expect(await store.outbox.complete(a1!, "w1")).toBe(true);
        expect(idsOf(await store.outbox.claim("w2", 10, LONG))).toEqual([a2]);
        expect(await store.outbox.claim("w3", 10, LONG)).toEqual([]);

        expect(await store.outbox.fail(a2!, "w2", { cause: { source: "digicert", kind: "validation" }, message: "no" })).toBe(true);
        expect(idsOf(await store.outbox.claim("w3", 10, LONG))).toEqual([a3]);
        expect(await store.outbox.claim("w4", 10, LONG)).toEqual([]);
      });

      it("claims jobs of different users together, oldest first, up to the limit", async () => {
        const users = [await addUser(), await addUser(), await addUser(), await addUser(), await addUser()];
        const ids = await store.outbox.enqueue(users.map((u) => job(u.id)));
        expect(await store.outbox.claim("w0", 0, LONG)).toEqual([]);
        const first = await store.outbox.claim("w1", 3, LONG);
        expect(idsOf(first)).toEqual(ids.slice(0, 3));
        const second = await store.outbox.claim("w2", 3, LONG);
        expect(idsOf(second)).toEqual(ids.slice(3));
        for (const j of second) expect(j.leaseOwner).toBe("w2");
        expect(await store.outbox.claim("w3", 3, LONG)).toEqual([]);
        const stored = await store.outbox.get(ids);
        expect(stored.map((j) => [j.status, j.leaseOwner])).toEqual([
          ["running", "w1"], ["running", "w1"], ["running", "w1"], ["running", "w2"], ["running", "w2"],
        ]);
      });

      it("returns the claimed rows as stored, with a lease of leaseMs", async () => {
        const u = await addUser();
        const [id] = await store.outbox.enqueue([job(u.id, "create", { userName: u.userName })]);
        const before = Date.now();
        const [claimed] = await store.outbox.claim("worker-a", 1, 30_000);
        const after = Date.now();
        expect(claimed).toEqual(await one(id!));
        expect(claimed).toMatchObject({ id, userId: u.id, kind: "create", payload: { userName: u.userName }, status: "running", attempts: 1, leaseOwner: "worker-a" });
        const until = Date.parse(claimed!.leaseUntil!);
        expect(claimed!.leaseUntil).toMatch(ISO_MS);
        expect(until).toBeGreaterThanOrEqual(before + 30_000);
        expect(until).toBeLessThanOrEqual(after + 30_000);
      });

      it("counts an attempt on every claim", async () => {
        const { id } = await runningJob("w1");
        expect((await one(id)).attempts).toBe(1);
        expect(await store.outbox.release("w1")).toBe(1);
        expect((await one(id)).attempts).toBe(1);
        const [again] = await store.outbox.claim("w2", 1, LONG);
        expect(again).toMatchObject({ id, attempts: 2, leaseOwner: "w2" });
        expect(await store.outbox.reschedule(id, "w2", isoIn(-1000), { cause: { source: "digicert", kind: "unavailable" }, message: "503" }, true)).toBe(true);
        expect((await one(id)).attempts).toBe(2);
        const [third] = await store.outbox.claim("w3", 1, LONG);
        expect(third).toMatchObject({ id, attempts: 3 });
      });

      it("does not claim a job rescheduled into the future, and that job blocks its user's later jobs", async () => {
        const a = await addUser();
        const b = await addUser();
        const [a1, a2, b1] = await store.outbox.enqueue([job(a.id), job(a.id), job(b.id)]);
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([a1, b1]);
        const runAfter = isoIn(1000);
        expect(await store.outbox.reschedule(a1!, "w", runAfter, { cause: { source: "digicert", kind: "unavailable" }, message: "try later" }, true)).toBe(true);
        expect(await one(a1!)).toMatchObject({ status: "pending", runAfter, leaseOwner: null, leaseUntil: null, attempts: 1 });

        // b's job is done elsewhere; a's later job must still wait for a1.
        expect(await store.outbox.complete(b1!, "w")).toBe(true);
        const [b2] = await store.outbox.enqueue([job(b.id)]);
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([b2]);
        expect(await store.outbox.claim("w", 10, LONG)).toEqual([]);
        expect((await one(a2!)).status).toBe("pending");

        await sleep(Math.max(0, Date.parse(runAfter) - Date.now()) + 30);
        const due = await store.outbox.claim("w", 10, LONG);
        expect(idsOf(due)).toEqual([a1]);
        expect(due[0]!.attempts).toBe(2);
        expect((await one(a2!)).status).toBe("pending");
      });

      it("lets cancelled and failed jobs stop blocking the user's later jobs", async () => {
        const { u, id: failed } = await failedJob("w");
        const [later] = await store.outbox.enqueue([job(u.id)]);
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([later]);
        expect(await store.outbox.cancelUnfinished(u.id)).toBe(2);
        const [del] = await store.outbox.enqueue([job(u.id, "delete", { digicertId: "dc-1" })]);
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([del]);
        expect((await one(failed)).status).toBe("cancelled");
      });
    });

    // --- leases --------------------------------------------------------------------------------------------

    describe("leases", () => {
      it("hands a running job whose lease ran out to another owner", async () => {
        const { u, id } = await runningJob("dead", SHORT);
        expect(await store.outbox.claim("alive", 10, LONG)).toEqual([]); // still held
        await sleep(SHORT + 60);
        const [taken] = await store.outbox.claim("alive", 10, LONG);
        expect(taken).toMatchObject({ id, userId: u.id, status: "running", leaseOwner: "alive", attempts: 2 });
        expect(Date.parse(taken!.leaseUntil!)).toBeGreaterThan(Date.now() + LONG / 2);
        expect(await store.outbox.claim("third", 10, LONG)).toEqual([]);
      });

      it("an expired running job still blocks the user's later jobs until it is taken over and finished", async () => {
        const { u, id } = await runningJob("dead", 40);
        const [later] = await store.outbox.enqueue([job(u.id)]);
        await sleep(90);
        // Only the expired job comes back, not the later one.
        expect(idsOf(await store.outbox.claim("alive", 10, LONG))).toEqual([id]);
        expect(await store.outbox.complete(id, "alive")).toBe(true);
        expect(idsOf(await store.outbox.claim("alive", 10, LONG))).toEqual([later]);
      });

      it("complete, fail, reschedule and renew by an owner that lost the lease change nothing", async () => {
        const { u, id } = await runningJob("old", 40);
        await sleep(90);
        expect(idsOf(await store.outbox.claim("new", 10, LONG))).toEqual([id]);
        const jobBefore = await one(id);
        const userBefore = await user(u.id);

        expect(await store.outbox.complete(id, "old")).toBe(false);
        expect(await store.outbox.fail(id, "old", { cause: { source: "internal" }, message: "late" })).toBe(false);
        expect(await store.outbox.reschedule(id, "old", isoIn(-1000), { cause: { source: "internal" }, message: "late" }, false)).toBe(false);
        await store.outbox.renew([id], "old", 1);
        expect(await store.outbox.release("old")).toBe(0);

        expect(await one(id)).toEqual(jobBefore);
        expect(await user(u.id)).toEqual(userBefore);
        expect(userBefore).toMatchObject({ syncState: "pending", syncError: null, syncedAt: null });

        expect(await store.outbox.complete(id, "new")).toBe(true);
        expect((await user(u.id)).syncState).toBe("synced");
      });

      it("refuses to finish a job that is not running, or twice", async () => {
        const u = await addUser();
        const [pending] = await store.outbox.enqueue([job(u.id)]);
        expect(await store.outbox.complete(pending!, "w")).toBe(false);
        expect(await store.outbox.fail(pending!, "w", { cause: { source: "internal" }, message: "x" })).toBe(false);
        expect(await store.outbox.reschedule(pending!, "w", isoIn(0), { cause: { source: "internal" }, message: "x" }, true)).toBe(false);
        expect(await one(pending!)).toMatchObject({ status: "pending", attempts: 0, error: null, finished: null });

        expect(idsOf(await store.outbox.claim("w", 1, LONG))).toEqual([pending]);
        expect(await store.outbox.complete(pending!, "w")).toBe(true);
        const done = await one(pending!);
        expect(await store.outbox.complete(pending!, "w")).toBe(false);
        expect(await store.outbox.fail(pending!, "w", { cause: { source: "internal" }, message: "x" })).toBe(false);
        expect(await one(pending!)).toEqual(done);
        expect(await store.outbox.complete(987_654_321, "w")).toBe(false);
      });

      it("renew extends the lease of jobs the owner holds, and only those", async () => {
        const a = await addUser();
        const b = await addUser();
        const [mine, theirs] = (await store.outbox.enqueue([job(a.id), job(b.id)])) as [number, number];
        expect(idsOf(await store.outbox.claim("a", 1, SHORT))).toEqual([mine]);
        expect(idsOf(await store.outbox.claim("b", 1, SHORT))).toEqual([theirs]);
        const before = await store.outbox.get([mine, theirs]);
        const t0 = Date.now();
        await store.outbox.renew([mine, theirs], "a", LONG);
        const [m, t] = await store.outbox.get([mine, theirs]);
        expect(Date.parse(m!.leaseUntil!)).toBeGreaterThanOrEqual(t0 + LONG);
        expect(m).toMatchObject({ status: "running", leaseOwner: "a", attempts: 1 });
        expect(t).toEqual(before[1]);

        await sleep(SHORT + 60);
        // b's lease ran out; a's renewed one did not.
        expect(idsOf(await store.outbox.claim("c", 10, LONG))).toEqual([theirs]);
        expect(await store.outbox.complete(mine, "a")).toBe(true);
        await store.outbox.renew([], "a", LONG); // nothing to do, no error
      });

      it("renew does not revive a job that is no longer running", async () => {
        const { id } = await doneJob("a");
        const done = await one(id);
        await store.outbox.renew([id], "a", LONG);
        expect(await one(id)).toEqual(done);
        expect(done.leaseUntil).toBeNull();
      });
    });

    // --- concurrency ---------------------------------------------------------------------------------------

    describe("concurrent claimers", () => {
      it("never hand the same job, or two jobs of one user, to two claimers", async () => {
        for (let round = 0; round < 3; round++) {
          const single = await Promise.all(Array.from({ length: 40 }, () => addUser()));
          const multi = await Promise.all(Array.from({ length: 6 }, () => addUser()));
          const jobs: NewOutboxJob[] = [];
          for (let k = 0; k < 3; k++) for (const u of multi) jobs.push(job(u.id));
          for (const u of single) jobs.push(job(u.id));
          const ids = await store.outbox.enqueue(jobs);
          const firstOfUser = new Map<string, number>();
          ids.forEach((id, i) => {
            if (!firstOfUser.has(jobs[i]!.userId)) firstOfUser.set(jobs[i]!.userId, id);
          });

          const owners = Array.from({ length: 16 }, (_, i) => `r${round}-w${i}`);
          const results = await Promise.all(owners.map((o) => store.outbox.claim(o, 4, LONG)));
          const claimed = results.flat();
          const claimedIds = idsOf(claimed);
          expect(new Set(claimedIds).size).toBe(claimedIds.length);
          expect(new Set(claimed.map((j) => j.userId)).size).toBe(claimed.length);
          for (const j of claimed) expect(firstOfUser.get(j.userId)).toBe(j.id);
          results.forEach((r, i) => {
            expect(r.length).toBeLessThanOrEqual(4);
            for (const j of r) expect(j.leaseOwner).toBe(owners[i]);
          });
          // What each claimer was told is what is stored.
          const stored = new Map((await store.outbox.get(claimedIds)).map((j) => [j.id, j]));
          results.forEach((r, i) => {
            for (const j of r) expect(stored.get(j.id)).toMatchObject({ status: "running", leaseOwner: owners[i], attempts: 1 });
          });

          // Whatever the race left is claimable afterwards: together, exactly every user's first job, once.
          const rest = await store.outbox.claim(`r${round}-sweep`, 1000, LONG);
          const all = [...claimedIds, ...idsOf(rest)].sort((x, y) => x - y);
          expect(all).toEqual([...firstOfUser.values()].sort((x, y) => x - y));

          for (const j of [...claimed, ...rest]) expect(await store.outbox.complete(j.id, j.leaseOwner!)).toBe(true);
          // Only the multi-job users have jobs left: their second ones.
          const second = await Promise.all(owners.map((o) => store.outbox.claim(o, 4, LONG)));
          const secondIds = idsOf(second.flat());
          expect(new Set(secondIds).size).toBe(secondIds.length);
          const secondRest = await store.outbox.claim(`r${round}-sweep2`, 1000, LONG);
          expect([...secondIds, ...idsOf(secondRest)].sort((x, y) => x - y)).toEqual(ids.slice(6, 12));
          await store.outbox.release(`r${round}-sweep2`);
          for (const o of owners) await store.outbox.release(o);
          for (const u of [...single, ...multi]) await store.outbox.cancelUnfinished(u.id);
        }
      });

      it("never hand the same expired job to two claimers taking it over", async () => {
        const users = await Promise.all(Array.from({ length: 30 }, () => addUser()));
        const ids = await store.outbox.enqueue(users.map((u) => job(u.id)));
        expect(idsOf(await store.outbox.claim("dead", 100, 30))).toEqual(ids);
        await sleep(80);
        const owners = Array.from({ length: 12 }, (_, i) => `heir-${i}`);
        const results = await Promise.all(owners.map((o) => store.outbox.claim(o, 5, LONG)));
        const taken = idsOf(results.flat());
        expect(new Set(taken).size).toBe(taken.length);
        const rest = idsOf(await store.outbox.claim("heir-sweep", 100, LONG));
        expect([...taken, ...rest].sort((x, y) => x - y)).toEqual(ids);
        for (const j of await store.outbox.get(ids)) expect(j.attempts).toBe(2);
      });
    });

    // --- complete / reschedule / fail ----------------------------------------------------------------------

    describe("finishing jobs", () => {
      it("complete marks the job done and the user synced only once no unfinished job remains", async () => {
        const u = await addUser();
        const [j1, j2] = await store.outbox.enqueue([job(u.id), job(u.id)]);
        await store.outbox.claim("w", 10, LONG);
        const before = new Date().toISOString();
        expect(await store.outbox.complete(j1!, "w")).toBe(true);
        const done = await one(j1!);
        expect(done).toMatchObject({ status: "done", leaseOwner: null, leaseUntil: null, error: null, attempts: 1 });
        expect(done.finished).toMatch(ISO_MS);
        expect(done.finished! >= before).toBe(true);
        // j2 is still to run: the user stays pending.
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncError: null, syncedAt: null });

        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([j2]);
        // A retry leaves its reason on the user, which the eventual success clears.
        expect(await store.outbox.reschedule(j2!, "w", isoIn(-1000), { cause: { source: "digicert", kind: "unavailable" }, message: "busy" }, true)).toBe(true);
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncError: "busy" });
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([j2]);
        const beforeSync = new Date().toISOString();
        expect(await store.outbox.complete(j2!, "w")).toBe(true);
        const synced = await user(u.id);
        expect(synced).toMatchObject({ syncState: "synced", syncError: null, version: u.version, lastModified: u.lastModified });
        expect(synced.syncedAt).toMatch(ISO_MS);
        expect(synced.syncedAt! >= beforeSync).toBe(true);
        expect(await one(j2!)).toMatchObject({ status: "done", error: null, attempts: 2 });
      });

      it("complete leaves the user pending when a job for it is enqueued while it completes", async () => {
        const { u, id } = await runningJob("w");
        let completing: Promise<boolean> | undefined;
        const [later] = await store.transaction(async (tx) => {
          // The enqueue is not committed yet when complete looks for the user's other jobs (PostgreSQL runs it on
          // another connection; SQLite makes it wait for this transaction).
          const ids = await tx.outbox.enqueue([job(u.id)]);
          completing = store.outbox.complete(id, "w");
          await sleep(150);
          return ids;
        });
        expect(await completing).toBe(true);
        expect((await one(id)).status).toBe("done");
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncedAt: null });
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([later]);
      });

      it("complete supersedes the user's earlier failed jobs, not other users'", async () => {
        const { u, id: failedMine } = await failedJob("w", { cause: { source: "digicert", kind: "validation" }, message: "bad email" });
        const { u: other, id: failedOther } = await failedJob("w");
        expect((await user(u.id)).syncState).toBe("failed");

        const [fix] = await store.outbox.enqueue([job(u.id)]);
        // Enqueueing makes the user pending but keeps the last error until a job succeeds.
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncError: "bad email" });
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual([fix]);
        expect(await store.outbox.complete(fix!, "w")).toBe(true);

        const mine = await one(failedMine);
        expect(mine.status).toBe("superseded");
        expect(mine.error).toEqual({ cause: { source: "digicert", kind: "validation" }, message: "bad email" });
        expect((await one(failedOther)).status).toBe("failed");
        expect(await user(u.id)).toMatchObject({ syncState: "synced", syncError: null });
        expect(await user(other.id)).toMatchObject({ syncState: "failed", syncError: "refused" });
        expect((await store.outbox.stats()).failed).toBe(1);
      });

      it("reschedule without counting gives the attempt back and leaves the user pending with the reason", async () => {
        const { u, id } = await runningJob("w");
        const runAfter = isoIn(-5);
        const error: JobError = { cause: { source: "digicert", kind: "unavailable" }, message: "ECONNREFUSED" };
        expect(await store.outbox.reschedule(id, "w", runAfter, error, false)).toBe(true);
        const j = await one(id);
        expect(j).toMatchObject({ status: "pending", attempts: 0, runAfter, leaseOwner: null, leaseUntil: null, error, finished: null });
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncError: "ECONNREFUSED", syncedAt: null });
        const [again] = await store.outbox.claim("w2", 1, LONG);
        expect(again).toMatchObject({ id, attempts: 1, leaseOwner: "w2" });
      });

      it("fail stores the error, shown by get and list, and marks the user failed", async () => {
        const { u, id } = await runningJob("w");
        const error: JobError = { cause: { source: "digicert", kind: "validation" }, message: "Email ‘x’ is invalid" };
        const before = new Date().toISOString();
        expect(await store.outbox.fail(id, "w", error)).toBe(true);
        const j = await one(id);
        expect(j).toMatchObject({ status: "failed", error, attempts: 1, leaseOwner: null, leaseUntil: null });
        expect(j.finished! >= before).toBe(true);
        expect(await store.outbox.list({ status: ["failed"], userId: u.id, limit: 10 })).toEqual([j]);
        expect(await user(u.id)).toMatchObject({ syncState: "failed", syncError: "Email ‘x’ is invalid", syncedAt: null });
        // A failed job is not claimed again.
        expect(await store.outbox.claim("w", 10, LONG)).toEqual([]);
      });
    });

    // --- maintenance ---------------------------------------------------------------------------------------

    describe("release, retry, cancel", () => {
      it("release hands back only the owner's running jobs", async () => {
        const a = await addUser();
        const b = await addUser();
        const c = await addUser();
        const [ja, jb, jc] = await store.outbox.enqueue([job(a.id), job(b.id), job(c.id)]);
        expect(idsOf(await store.outbox.claim("A", 2, LONG))).toEqual([ja, jb]);
        expect(idsOf(await store.outbox.claim("B", 2, LONG))).toEqual([jc]);
        expect(await store.outbox.release("A")).toBe(2);
        for (const id of [ja!, jb!]) expect(await one(id)).toMatchObject({ status: "pending", leaseOwner: null, leaseUntil: null, attempts: 1 });
        expect(await one(jc!)).toMatchObject({ status: "running", leaseOwner: "B" });
        expect(await store.outbox.release("A")).toBe(0);
        expect(await store.outbox.complete(ja!, "A")).toBe(false);
        // Released jobs are claimable at once.
        const again = await store.outbox.claim("C", 10, LONG);
        expect(idsOf(again)).toEqual([ja, jb]);
        expect(again.map((j) => j.attempts)).toEqual([2, 2]);
      });

      it("retryFailed resets the given or all failed jobs to pending with a fresh attempt count", async () => {
        const f1 = await runningJob("w");
        expect(await store.outbox.reschedule(f1.id, "w", isoIn(-1000), { cause: { source: "digicert", kind: "unavailable" }, message: "503" }, true)).toBe(true);
        expect(idsOf(await store.outbox.claim("w", 1, LONG))).toEqual([f1.id]);
        expect(await store.outbox.fail(f1.id, "w", { cause: { source: "digicert", kind: "validation" }, message: "refused" })).toBe(true);
        expect((await one(f1.id)).attempts).toBe(2);
        const f2 = await failedJob("w");
        const f3 = await failedJob("w");
        const d = await doneJob("w");
        // f1 failed after two attempts, then was retried once and failed again.
        expect(await store.outbox.retryFailed([f1.id])).toBe(1);
        expect((await one(f1.id)).attempts).toBe(0);
        expect(idsOf(await store.outbox.claim("w", 1, LONG))).toEqual([f1.id]);
        expect(await store.outbox.fail(f1.id, "w", { cause: { source: "internal" }, message: "again" })).toBe(true);

        const before = new Date().toISOString();
        expect(await store.outbox.retryFailed([f1.id, d.id, 987_654_321])).toBe(1);
        const r1 = await one(f1.id);
        expect(r1).toMatchObject({ status: "pending", attempts: 0, finished: null, leaseOwner: null });
        expect(r1.runAfter >= before).toBe(true);
        expect(r1.runAfter <= new Date().toISOString()).toBe(true);
        expect((await one(f2.id)).status).toBe("failed");
        expect((await one(d.id)).status).toBe("done");
        expect((await user(f1.u.id)).syncState).toBe("pending");
        expect((await user(f2.u.id)).syncState).toBe("failed");

        expect(await store.outbox.retryFailed([])).toBe(0);
        expect((await one(f2.id)).status).toBe("failed");
        expect(await store.outbox.retryFailed()).toBe(2);
        for (const r of [f2, f3]) {
          expect(await one(r.id)).toMatchObject({ status: "pending", attempts: 0, finished: null });
          expect((await user(r.u.id)).syncState).toBe("pending");
        }
        expect(await store.outbox.retryFailed()).toBe(0);
        const claimed = await store.outbox.claim("w", 10, LONG);
        expect(idsOf(claimed)).toEqual([f1.id, f2.id, f3.id]);
        expect(claimed.map((j) => j.attempts)).toEqual([1, 1, 1]);
      });

      it("cancelUnfinished cancels one user's pending, running and failed jobs, leaving done ones and other users", async () => {
        const u = await addUser();
        const other = await addUser();
        const [done] = await store.outbox.enqueue([job(u.id)]);
        await store.outbox.claim("w", 10, LONG);
        await store.outbox.complete(done!, "w");
        const [failed] = await store.outbox.enqueue([job(u.id)]);
        await store.outbox.claim("w", 10, LONG);
        await store.outbox.fail(failed!, "w", { cause: { source: "internal" }, message: "x" });
        const [running, pending, otherJob] = await store.outbox.enqueue([job(u.id), job(u.id), job(other.id)]);
        expect(idsOf(await store.outbox.claim("w", 1, LONG))).toEqual([running]);
        const doneBefore = await one(done!);

        const before = new Date().toISOString();
        // Failed ones too: a rolled-back create deletes the user, so its refused job must not linger as failed.
        expect(await store.outbox.cancelUnfinished(u.id)).toBe(3);
        for (const id of [failed!, running!, pending!]) {
          const j = await one(id);
          expect(j).toMatchObject({ status: "cancelled", leaseOwner: null, leaseUntil: null });
          expect(j.finished! >= before).toBe(true);
        }
        expect(await one(done!)).toEqual(doneBefore);
        expect(await one(otherJob!)).toMatchObject({ status: "pending" });
        // The worker that held the running one can no longer finish it.
        expect(await store.outbox.complete(running!, "w")).toBe(false);
        expect((await one(running!)).status).toBe("cancelled");
        expect(await store.outbox.cancelUnfinished(u.id)).toBe(0);
        expect(await store.outbox.cancelUnfinished(randomUUID())).toBe(0);
      });
    });

    describe("reporting and purging", () => {
      it("stats counts pending, running and failed jobs and dates the oldest unfinished one", async () => {
        expect(await store.outbox.stats()).toEqual({ pending: 0, running: 0, failed: 0, oldestUnfinished: null });
        await failedJob("w"); // older than everything below, but not unfinished
        await doneJob("w");
        const a = await addUser();
        const b = await addUser();
        const [ja] = await store.outbox.enqueue([job(a.id)]);
        const [jb1, jb2] = await store.outbox.enqueue([job(b.id), job(b.id)]);
        expect(idsOf(await store.outbox.claim("w", 1, LONG))).toEqual([ja]);
        const created = new Map((await store.outbox.get([ja!, jb1!, jb2!])).map((j) => [j.id, j.created]));
        expect(created.get(ja!)! < created.get(jb1!)!).toBe(true);

        expect(await store.outbox.stats()).toEqual({ pending: 2, running: 1, failed: 1, oldestUnfinished: created.get(ja!) });
        expect(await store.outbox.complete(ja!, "w")).toBe(true);
        expect(await store.outbox.stats()).toEqual({ pending: 2, running: 0, failed: 1, oldestUnfinished: created.get(jb1!) });
      });

      it("doneSince counts jobs done at or after the instant, not failed or cancelled ones", async () => {
        const t0 = new Date(Date.now() - 1).toISOString();
        const { id } = await doneJob("w");
        await failedJob("w");
        const { u } = await runningJob("w");
        await store.outbox.cancelUnfinished(u.id);
        const finished = (await one(id)).finished!;
        expect(await store.outbox.doneSince(t0)).toBe(1);
        expect(await store.outbox.doneSince(finished)).toBe(1);
        expect(await store.outbox.doneSince(new Date(Date.parse(finished) + 1).toISOString())).toBe(0);
        await doneJob("w");
        expect(await store.outbox.doneSince(t0)).toBe(2);
      });

      it("purgeFinishedBefore removes only done, superseded and cancelled jobs finished before the cut-off", async () => {
        const old = await doneJob("w");
        await sleep(5);
        const cut = new Date().toISOString();
        await sleep(5);
        const recent = await doneJob("w");
        expect(await store.outbox.purgeFinishedBefore(cut)).toBe(1);
        expect(await store.outbox.get([old.id, recent.id])).toEqual([await one(recent.id)]);

        const superseded = await failedJob("w");
        const [fix] = await store.outbox.enqueue([job(superseded.u.id)]);
        await store.outbox.claim("w", 10, LONG);
        await store.outbox.complete(fix!, "w");
        expect((await one(superseded.id)).status).toBe("superseded");
        const cancelled = await runningJob("w");
        await store.outbox.cancelUnfinished(cancelled.u.id);
        const failed = await failedJob("w");
        const running = await runningJob("w");
        const pendingUser = await addUser();
        const [pending] = await store.outbox.enqueue([job(pendingUser.id)]);

        // Nothing is old enough yet for a cut-off in the past.
        expect(await store.outbox.purgeFinishedBefore(cut)).toBe(0);
        const survivors = [failed.id, running.id, pending!];
        const kept = await store.outbox.get(survivors);
        expect(await store.outbox.purgeFinishedBefore(isoIn(60_000))).toBe(4); // recent, superseded, fix, cancelled
        expect(await store.outbox.get([recent.id, superseded.id, fix!, cancelled.id])).toEqual([]);
        expect(await store.outbox.get(survivors)).toEqual(kept);
        expect(kept.map((j) => j.status)).toEqual(["failed", "running", "pending"]);
      });

      it("get skips unknown ids and orders by id; list is newest first, filtered and limited", async () => {
        const a = await addUser();
        const b = await addUser();
        const [a1, b1, a2, b2] = await store.outbox.enqueue([job(a.id), job(b.id), job(a.id), job(b.id)]);
        await store.outbox.claim("w", 10, LONG); // a1, b1 running
        expect(idsOf(await store.outbox.get([b2!, 987_654_321, a1!]))).toEqual([a1, b2]);
        expect(await store.outbox.get([])).toEqual([]);
        expect(idsOf(await store.outbox.list({ limit: 10 }))).toEqual([b2, a2, b1, a1]);
        expect(idsOf(await store.outbox.list({ limit: 2 }))).toEqual([b2, a2]);
        expect(idsOf(await store.outbox.list({ userId: a.id, limit: 10 }))).toEqual([a2, a1]);
        expect(idsOf(await store.outbox.list({ status: ["running"], limit: 10 }))).toEqual([b1, a1]);
        expect(idsOf(await store.outbox.list({ status: ["pending"], userId: b.id, limit: 10 }))).toEqual([b2]);
        expect(idsOf(await store.outbox.list({ status: ["done", "failed"], limit: 10 }))).toEqual([]);
        expect(await store.outbox.list({ limit: 0 })).toEqual([]);
      });
    });

    // --- transactions and links ----------------------------------------------------------------------------

    describe("Store.transaction", () => {
      it("rolls back a user insert and its job together when the function throws", async () => {
        const u = newUser();
        let jobIds: number[] = [];
        const err = await store
          .transaction(async (tx) => {
            await tx.users.insert(u);
            jobIds = await tx.outbox.enqueue([job(u.id, "create", { userName: u.userName })]);
            // Inside, both are visible and the user is already pending.
            expect(await tx.users.getById(u.id)).toMatchObject({ syncState: "pending" });
            expect(idsOf(await tx.outbox.get(jobIds))).toEqual(jobIds);
            throw new Error("boom");
          })
          .catch((e: unknown) => e);
        expect((err as Error).message).toBe("boom");
        expect(jobIds).toHaveLength(1);
        expect(await store.users.getById(u.id)).toBeNull();
        expect(await store.outbox.get(jobIds)).toEqual([]);
        expect(await store.outbox.list({ userId: u.id, limit: 10 })).toEqual([]);
        expect(await store.outbox.claim("w", 10, LONG)).toEqual([]);
      });

      it("commits a user insert and its job together, returning the function's value", async () => {
        const u = newUser();
        const result = await store.transaction(async (tx) => {
          const row = await tx.users.insert(u);
          const ids = await tx.outbox.enqueue([job(u.id, "create", { userName: u.userName })]);
          return { row, ids };
        });
        expect(result.ids).toHaveLength(1);
        expect(await user(u.id)).toMatchObject({ id: u.id, userName: u.userName, syncState: "pending" });
        expect(await one(result.ids[0]!)).toMatchObject({ userId: u.id, kind: "create", status: "pending", payload: { userName: u.userName } });
        expect(idsOf(await store.outbox.claim("w", 10, LONG))).toEqual(result.ids);
      });

      it("rolls back outbox state changes made inside a failed transaction", async () => {
        const { u, id } = await runningJob("w");
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.outbox.complete(id, "w")).toBe(true);
            expect(await tx.users.setLink(u.id, { digicertId: "dc-tx", adopted: true, digicertEnabled: false, digicertRoleIds: ["r"] })).toBe(true);
            throw new Error("abort");
          }),
        ).rejects.toThrow("abort");
        expect(await one(id)).toMatchObject({ status: "running", leaseOwner: "w" });
        expect(await user(u.id)).toMatchObject({ syncState: "pending", digicertId: null, adopted: false, digicertEnabled: true, digicertRoleIds: null });
      });
    });

    describe("UserRepository.setLink", () => {
      it("records the DigiCert link without touching version, lastModified or the SCIM fields", async () => {
        const u = await store.users.insert(newUser({ externalId: "ext-9", emails: [{ value: "x@example.com", type: "work", primary: true }] }));
        await sleep(3); // so a wrongly bumped lastModified would differ
        expect(await store.users.setLink(u.id, { digicertId: "dc-42", adopted: true, digicertEnabled: false, digicertRoleIds: ["role-1", "ü-2"] })).toBe(true);
        const linked = await user(u.id);
        expect(linked).toEqual({ ...u, digicertId: "dc-42", adopted: true, digicertEnabled: false, digicertRoleIds: ["role-1", "ü-2"] });

        expect(await store.users.setLink(u.id, { digicertId: null, adopted: false, digicertEnabled: true, digicertRoleIds: null })).toBe(true);
        expect(await user(u.id)).toEqual({ ...u, digicertId: null, adopted: false, digicertEnabled: true, digicertRoleIds: null });
        expect(await store.users.setLink(u.id, { digicertId: "dc-43", adopted: false, digicertEnabled: true, digicertRoleIds: [] })).toBe(true);
        expect(await user(u.id)).toMatchObject({ digicertId: "dc-43", digicertRoleIds: [], version: 1, lastModified: u.lastModified });
      });

      it("leaves the sync state alone", async () => {
        const { u, id } = await runningJob("w");
        await store.users.setLink(u.id, { digicertId: "dc-1", adopted: false, digicertEnabled: true, digicertRoleIds: null });
        expect(await user(u.id)).toMatchObject({ syncState: "pending", syncError: null, syncedAt: null, digicertId: "dc-1" });
        await store.outbox.complete(id, "w");
        expect(await user(u.id)).toMatchObject({ syncState: "synced", digicertId: "dc-1" });
      });

      it("returns false for an unknown id and creates nothing", async () => {
        const id = randomUUID();
        const count = await store.users.count();
        expect(await store.users.setLink(id, { digicertId: "dc-1", adopted: false, digicertEnabled: true, digicertRoleIds: null })).toBe(false);
        expect(await store.users.getById(id)).toBeNull();
        expect(await store.users.count()).toBe(count);
      });
    });
  });
}
